/**
 * GPU tests run wherever WebGPU is available and fail, not skip, in CI: CI has a software adapter
 * (Mesa lavapipe), so a missing adapter there is a broken setup, not a reason to pass.
 */
import process from 'node:process';
import { getGpu, type GpuContext } from '../src/engine/gpu/device.ts';

export async function gpuForTests(): Promise<GpuContext | null> {
  const gpu = await getGpu();
  if (!gpu && process.env.CI) {
    throw new Error('CI is set but no WebGPU adapter was found (navigator.gpu); GPU tests must not be skipped in CI');
  }
  return gpu;
}
