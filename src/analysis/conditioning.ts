/**
 * How far a tangent can be trusted: its spread under perturbations at the size of f32 rounding.
 *
 * The derivative of a time average over a fixed window of a spiking or bursting run is exact for the
 * discrete scheme, but it can be ill conditioned: when the run is sensitive (irregular or long
 * bursting, a spike near the window's edge), perturbing every state by half an f32 ulp per step
 * moves it by tens of percent or flips its sign, so an f32 engine and the f64 engine legitimately
 * disagree (README: "Gradients you can trust"). Two probed runs on the f64 CPU engine (emit-js.ts,
 * RoundoffProbe: ±½ ulp of f32 on every state read, exp and log scaled by 1 ± 2^-23) give the spread;
 * a tangent is trusted when the spread is below CONDITIONING_TOLERANCE of its magnitude.
 */
import type { StepProgram } from '../compile/program.ts';
import { runCpu } from '../engine/cpu.ts';
import type { EnsembleResult, EnsembleSpec } from '../engine/ensemble.ts';
import { observableKey } from './names.ts';

/**
 * A tangent whose probed spread exceeds this fraction of its magnitude is flagged. Two probes
 * underestimate the scatter of real f32 computations (AB/PD 5 of Prinz 2004 over 20-30 s: d mean [Ca]
 * / d log gCaS moves 0.9 % under the two probes, up to 4.4 % over twelve, and f32 runs land 0.7 % to
 * 14 % off, depending on the rounding of algebraically equal steps), while well-conditioned tangents
 * moved by at most 0.3 % in the runs measured; 1 % separates them.
 */
export const CONDITIONING_TOLERANCE = 0.01;

/** One probed run per sign, as the GPU agreement tests use (test/gpu-agreement.test.ts). */
export const ROUNDOFF_PROBES = [+1, -1].map((sign) => ({ relative: 2 ** -23, seed: 7 + sign, transcendentalBias: sign * 2 ** -23 }));

export interface TangentConditioning {
  /** the f64 CPU engine's tangent, unperturbed */
  reference: number;
  /** largest change of the tangent under the probes (absolute) */
  spread: number;
  /** spread / |reference|; null where the reference is 0 and the spread is not (no scale to judge by) */
  relative: number | null;
  trusted: boolean;
}

/** By observable key (meanVMv, meanLP_CaUM, ...) and lane key: how far each mean's tangent can be trusted. */
export type Conditioning = Record<string, Record<string, TangentConditioning>>;

/**
 * Runs the probes for instance 0 of `spec` (the run whose tangents are reported) and measures each
 * mean tangent's spread. `clean` is the f64 CPU engine's result of the same spec when the caller has
 * it (saves a run).
 */
export async function tangentConditioning(spec: EnsembleSpec & { program: StepProgram }, clean?: EnsembleResult): Promise<Conditioning> {
  const reference = clean ?? await runCpu(spec);
  const probed = await Promise.all(ROUNDOFF_PROBES.map((roundoffProbe) => runCpu(spec, { roundoffProbe, threads: 1 })));
  const out: Conditioning = {};
  reference.observed.forEach((o, k) => {
    const key = observableKey('mean', o.name, o.unit);
    out[key] = Object.fromEntries(reference.lanes.map((lane, j) => {
      const ref = o.meanTangent[j][0];
      const spread = Math.max(...probed.map((p) => Math.abs(p.observed[k].meanTangent[j][0] - ref)));
      const relative = spread === 0 ? 0 : ref === 0 ? null : spread / Math.abs(ref);
      return [lane.key, { reference: ref, spread, relative, trusted: relative !== null && relative < CONDITIONING_TOLERANCE }];
    }));
  });
  return out;
}
