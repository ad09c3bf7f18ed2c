/**
 * What the demos' renderers share: shader modules compiled with their errors turned into one thrown
 * message, the full-screen vertex stage, and the plumbing of a splatted view (a compute pass writes
 * colour codes into a per-view pixel buffer, a full-screen triangle shows it).
 */

/** A vertex stage `vs` drawing one triangle that covers the canvas (draw(3)); fragment stages read pos. */
export const FULLSCREEN = /* wgsl */ `
struct VsOut { @builtin(position) pos: vec4f }
@vertex fn vs(@builtin(vertex_index) vi: u32) -> VsOut {
  let xy = vec2f(f32((vi << 1u) & 2u), f32(vi & 2u));
  return VsOut(vec4f(xy * 2.0 - 1.0, 0.0, 1.0));
}`;

/** Compiles WGSL `code`; throws naming `what` and every error line when it does not compile. */
export async function compileShader(device: GPUDevice, code: string, what: string): Promise<GPUShaderModule> {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) throw new Error(`${what} shader: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`);
  return module;
}

/** The canvas's background behind every view. */
const BACKGROUND: GPUColor = { r: 0.055, g: 0.063, b: 0.078, a: 1 };

/** A splat pass's bind group layout: a uniform block (binding 0), `readOnly` storage buffers, then `readWrite` ones. */
export function splatBindGroupLayout(device: GPUDevice, readOnly: number, readWrite: number): GPUBindGroupLayout {
  const visibility = GPUShaderStage.COMPUTE;
  const storage = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility, buffer: { type } });
  return device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility, buffer: { type: 'uniform' } },
      ...Array.from({ length: readOnly }, (_, k) => storage(1 + k, 'read-only-storage')),
      ...Array.from({ length: readWrite }, (_, k) => storage(1 + readOnly + k, 'storage')),
    ],
  });
}

/** The compute pipelines of a splat module's entry points, on one bind group layout (splatBindGroupLayout). */
export function splatPipelines(device: GPUDevice, bindGroupLayout: GPUBindGroupLayout, module: GPUShaderModule, entryPoints: readonly string[]): Promise<GPUComputePipeline>[] {
  const layout = device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
  return entryPoints.map((entryPoint) => device.createComputePipelineAsync({ layout, compute: { module, entryPoint } }));
}

/** A render pipeline drawing a full-screen triangle with `module`'s `vs` and `fs`. */
export function fullScreenPipeline(device: GPUDevice, module: GPUShaderModule, format: GPUTextureFormat): Promise<GPURenderPipeline> {
  return device.createRenderPipelineAsync({
    layout: 'auto',
    vertex: { module, entryPoint: 'vs' },
    fragment: { module, entryPoint: 'fs', targets: [{ format }] },
    primitive: { topology: 'triangle-list' },
  });
}

/** A canvas's WebGPU context, configured for `device`. */
export function canvasContext(device: GPUDevice, canvas: HTMLCanvasElement, format: GPUTextureFormat): GPUCanvasContext {
  const context = canvas.getContext('webgpu');
  if (!context) throw new Error('canvas.getContext("webgpu") returned null');
  context.configure({ device, format, alphaMode: 'opaque' });
  return context;
}

/**
 * Sizes a canvas's drawing buffer to its element at `scale` drawing-buffer pixels per CSS pixel
 * (at least 2 × 2); whether the size changed.
 */
export function fitCanvas(canvas: HTMLCanvasElement, scale: number): boolean {
  const w = Math.max(2, Math.round(canvas.clientWidth * scale)), h = Math.max(2, Math.round(canvas.clientHeight * scale));
  if (canvas.width === w && canvas.height === h) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}

/** Clears the canvas to the background and draws a full-screen triangle with `pipeline`. */
export function drawFullScreen(encoder: GPUCommandEncoder, context: GPUCanvasContext, pipeline: GPURenderPipeline, bindGroup: GPUBindGroup): void {
  const pass = encoder.beginRenderPass({
    colorAttachments: [{ view: context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: BACKGROUND }],
  });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.draw(3);
  pass.end();
}
