/**
 * GPU tests run wherever WebGPU is available and fail, not skip, in CI: CI has a software adapter
 * (Mesa lavapipe), so a missing adapter there is a broken setup, not a reason to pass.
 */
import process from 'node:process';
import { OPAQUE_ONE, OPAQUE_ONE_INIT } from '../src/compile/emit-wgsl.ts';
import { getGpu, scoped, type GpuContext } from '../src/engine/gpu/device.ts';

export async function gpuForTests(): Promise<GpuContext | null> {
  const gpu = await getGpu();
  if (!gpu && process.env.CI) {
    throw new Error('CI is set but no WebGPU adapter was found (navigator.gpu); GPU tests must not be skipped in CI');
  }
  return gpu;
}

/**
 * Evaluates f32 → f32 WGSL expressions of `x` elementwise on the GPU, one output array per call.
 * `functions` may read `chunk.one` (1.0), and ONE and ROUND_SHIFT (OPAQUE_ONE_INIT runs first), as the kernel's special functions do.
 */
export async function evaluateWgsl(gpu: GpuContext, functions: string, calls: readonly string[], xs: Float32Array<ArrayBuffer>): Promise<Float32Array[]> {
  const { device } = gpu;
  const code = `struct Chunk { one: f32 }
@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${OPAQUE_ONE}
${functions}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = arrayLength(&xs);
  let i = gid.x;
  if (i >= n) { return; }
  ${OPAQUE_ONE_INIT}
  let x = xs[i];
${calls.map((c, k) => `  ys[${k}u * n + i] = ${c};`).join('\n')}
}`;
  return scoped(device, 'evaluating WGSL functions', async () => {
    const module = device.createShaderModule({ code });
    // an explicit layout: 'auto' would drop the uniform where the functions do not read it
    const bgl = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
      ],
    });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [bgl] });
    const pipeline = await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: 'main' } });
    const uniform = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(uniform, 0, new Float32Array([1, 0, 0, 0]));
    const input = device.createBuffer({ size: xs.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(input, 0, xs);
    const outBytes = xs.byteLength * calls.length;
    const output = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readback = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const bindGroup = device.createBindGroup({
      layout: bgl,
      entries: [{ binding: 0, resource: { buffer: uniform } }, { binding: 1, resource: { buffer: input } }, { binding: 2, resource: { buffer: output } }],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(xs.length / 64));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, readback, 0, outBytes);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    for (const b of [uniform, input, output, readback]) b.destroy();
    return calls.map((_, k) => all.subarray(k * xs.length, (k + 1) * xs.length));
  });
}
