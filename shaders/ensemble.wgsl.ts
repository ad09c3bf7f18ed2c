/**
 * The ensemble kernel skeleton (WGSL). The WGSL emitter splices generated model code in at the
 * {{MARKERS}}; everything else (bindings, indexing, the time loop, observables) is written here once.
 *
 * One invocation runs one instance for a whole chunk of steps with every state and tangent in
 * registers. All per-instance data lives in storage buffers between dispatches, in structure-of-arrays
 * order (value `slot` of instance `i` at `slot * n + i`), so neighbouring invocations read neighbouring
 * addresses. Kept as a TypeScript string so browsers, Deno and bundlers all load it the same way.
 */
export default /* wgsl */ `
// ---- ionsweep ensemble kernel ({{MODEL}}, {{METHOD}}, dt = {{DT}} ms, {{LANES}} tangent lanes) ----

// Per dispatch (a dynamic-offset slot of the uniform buffer).
struct Chunk {
  n: u32,                  // instances in this batch
  stepStart: u32,          // global index of the first step
  nSteps: u32,
  accumulate: u32,         // 1: after the discard (observables, spikes, traces)
  traceEvery: u32,         // steps between trace samples (0: none)
  traceFirstSample: u32,   // global index of the first sample stored in the trace buffer
  traceSamplesPerRow: u32,
  gridWidth: u32,          // invocations per row of the 2-D dispatch grid
  one: f32,                // 1.0, unknown to the compiler: copied into ONE (emit-wgsl.ts, OPAQUE_ONE)
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read_write> state: array<f32>;      // [S values, S compensations][n]
@group(0) @binding(2) var<storage, read_write> tangent: array<f32>;    // [L×S values, L×S compensations][n]
@group(0) @binding(3) var<storage, read> params: array<f32>;           // [P][n], then the trace row (−1: none)
@group(0) @binding(4) var<storage, read_write> acc: array<f32>;        // [O sums, O×L tangent sums, their compensations][n], per readback block
@group(0) @binding(5) var<storage, read_write> extrema: array<f32>;    // [O minima, O maxima][n]
@group(0) @binding(6) var<storage, read_write> events: array<f32>;     // spikes and voltage maxima (layout.ts, eventSlots)
@group(0) @binding(7) var<storage, read_write> trace: array<f32>;      // [row][sample][O values, then O×L tangents with trace tangents]
@group(0) @binding(8) var<storage, read> inputs: array<f32>;           // recordings on the step grid (engine/inputs.ts, InputLayout)

// ±∞ and NaN as bits in private variables: not constant expressions, so every compiler accepts them
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;

const DT: f32 = {{DT}};
const THRESHOLD: f32 = {{THRESHOLD}};
const HYSTERESIS: f32 = {{HYSTERESIS}};
const IN_STRIDE: u32 = {{IN_STRIDE}}u;   // samples per recording row
const WINDOW: u32 = {{WINDOW}}u;         // steps per window of the normal equations (teacher forcing)
const WINDOW_START: u32 = {{WINDOW_START}}u;

{{FUNCTIONS}}

@compute @workgroup_size({{WORKGROUP}})
fn init(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * chunk.gridWidth;
  let n = chunk.n;
  if (i >= n) { return; }
  {{OPAQUE_ONE_INIT}}
{{INPUT_BASES}}
{{LOAD_PARAMS}}
{{INIT}}
}

@compute @workgroup_size({{WORKGROUP}})
fn run(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * chunk.gridWidth;
  let n = chunk.n;
  if (i >= n) { return; }
  {{OPAQUE_ONE_INIT}}
  // a diverged instance is frozen where it left the finite range (kernel-common.ts, divergenceCode)
  {{DIVERGED_SKIP}}
  let accumulate = chunk.accumulate != 0u;
  let traceEvery = chunk.traceEvery;
  let row = i32(params[{{TRACE_ROW_SLOT}}u * n + i]);
{{INPUT_BASES}}
{{LOAD_PARAMS}}
{{INVARIANTS}}
{{LOAD_STATE}}
  let stepEnd = chunk.stepStart + chunk.nSteps;
  // steps left before the next trace sample (a sample follows step s when (s + 1) % traceEvery == 0),
  // counted down: an integer modulo every step cost lavapipe 5 % of the prinz kernel (no SIMD division)
  var untilSample = 0u;
  if (traceEvery > 0u) { untilSample = (traceEvery - (chunk.stepStart + 1u) % traceEvery) % traceEvery; }
  {{DIVERGED_DECLARE}}
{{WINDOW_DECLARE}}
  for (var step = chunk.stepStart; step < stepEnd; step++) {
    let t = f32(step) * DT;
{{STEP_READS}}
{{STEP}}
{{FORCING_STEP}}
    let sampleNow = untilSample == 0u;
    untilSample = select(untilSample - 1u, traceEvery - 1u, sampleNow);
    if (accumulate) {
{{OBSERVED_READS}}
{{OBSERVE}}
      if (row >= 0 && traceEvery > 0u && sampleNow) {
        let base = (u32(row) * chunk.traceSamplesPerRow + (step + 1u) / traceEvery - 1u - chunk.traceFirstSample) * {{TRACE_WIDTH}}u;
{{TRACE}}
      }
    }
  }
{{DIVERGED_RECORD}}
{{STORE}}
}
`;
