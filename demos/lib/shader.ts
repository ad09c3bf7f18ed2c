/** What the demos' renderers share: shader modules compiled with their errors turned into one thrown message, and the full-screen vertex stage. */

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
