/** Shader modules for the demos' renderers: compiled with their errors turned into one thrown message. */

/** Compiles WGSL `code`; throws naming `what` and every error line when it does not compile. */
export async function compileShader(device: GPUDevice, code: string, what: string): Promise<GPUShaderModule> {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) throw new Error(`${what} shader: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`);
  return module;
}
