/**
 * GPU device acquisition: one device per process (or the caller's own), with the limits ionsweep
 * needs requested from the adapter, and helpers that turn WebGPU's silent validation and
 * out-of-memory failures into thrown errors.
 */
import { environmentVariable } from '../../environment.ts';

export class GpuError extends Error {
  override name = 'GpuError';
}

export interface GpuContext {
  device: GPUDevice;
  /** what the adapter says it is, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)' or 'NVIDIA H200' */
  adapterName: string;
  isFallbackAdapter: boolean;
  /** set when the device is lost; runs check it between submissions */
  lost?: GPUDeviceLostInfo;
  /** serialises runs on this device, so error scopes of one run never catch another's errors */
  queue: Promise<void>;
}

let shared: Promise<GpuContext | null> | undefined;

/** What an adapter says it is: its description, else vendor, architecture and device together. */
function describeAdapter(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown GPU adapter';
  if (info.description) return info.description;
  const parts = [info.vendor, info.architecture, info.device].filter((s) => s && s !== '0');
  return [...new Set(parts)].join(' ') || 'unknown GPU adapter';
}

/** Wraps a device the caller made (e.g. in a browser app) so the engine can use it. */
export function wrapDevice(device: GPUDevice, adapterName = describeAdapter((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo)): GpuContext {
  const ctx: GpuContext = { device, adapterName, isFallbackAdapter: false, queue: Promise.resolve() };
  device.lost.then((info) => (ctx.lost = info));
  return ctx;
}

/** Set IONSWEEP_NO_GPU=1 to hide every adapter (forces the CPU fallback, e.g. to compare engines). */
function gpuHidden(): boolean {
  return environmentVariable('IONSWEEP_NO_GPU') === '1';
}

/**
 * A new device with the limits ionsweep needs, or why there is none (for a page to show). Browsers
 * and Deno alike; `getGpu` keeps one per process.
 */
export async function requestGpu(): Promise<{ gpu: GpuContext } | { error: string }> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (gpuHidden()) return { error: 'IONSWEEP_NO_GPU=1 hides every adapter' };
  if (!gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
    return { error: secure === false ? 'navigator.gpu needs a secure context (https or http://127.0.0.1)' : 'navigator.gpu is missing (no WebGPU here)' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { error: `requestAdapter failed: ${String(e)}` };
  }
  if (!adapter) return { error: 'navigator.gpu found no adapter' };
  // ask for everything the adapter allows where it bounds the batch size; defaults are far lower
  // (128 MiB per binding), and a binding over the limit fails validation silently (docs/runtime.md)
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 8),
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const fallback = Boolean(info?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const ctx = wrapDevice(device, describeAdapter(info));
  ctx.isFallbackAdapter = fallback;
  // an uncaptured error is a bug in our scoping; make it visible rather than silent
  device.addEventListener('uncapturederror', (event) => {
    console.error(`ionsweep: uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  return { gpu: ctx };
}

async function acquire(): Promise<GpuContext | null> {
  const r = await requestGpu();
  return 'gpu' in r ? r.gpu : null;
}

/** The process's GPU, or null when no adapter is available. */
export function getGpu(): Promise<GpuContext | null> {
  if (!shared) {
    shared = acquire().catch(() => null);
    shared.then((ctx) => ctx?.device.lost.then(() => (shared = undefined)));
  }
  return shared;
}

/**
 * Runs `fn` with validation and out-of-memory error scopes; a captured error becomes a GpuError.
 * Error scopes are one stack per device: for a synchronous `fn` both scopes are pushed and popped
 * with no await between, so calls that overlap in time (a sweep compiling its next kernel while a
 * chunk runs) cannot pop each other's scopes. An asynchronous `fn` holds them across its awaits:
 * only for code that has the device to itself (exclusive).
 */
export async function scoped<T>(device: GPUDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: T | Promise<T> | undefined;
  let failure: { error: unknown } | undefined;
  try {
    value = fn();
    if (value instanceof Promise) value = await value;
  } catch (error) {
    failure = { error };
  }
  const validation = device.popErrorScope();
  const oom = device.popErrorScope();
  const error = (await validation) ?? (await oom);
  if (error) throw new GpuError(`${what} failed: ${error.message}`);
  if (failure) throw failure.error;
  return value as T;
}

/** Runs `fn` after every earlier run on this context has finished. */
export function exclusive<T>(ctx: GpuContext, fn: () => Promise<T>): Promise<T> {
  const run = ctx.queue.then(fn, fn);
  ctx.queue = run.then(() => undefined, () => undefined);
  return run;
}
