/** gpu.js, loaded only when a page takes the WebGL2 path (its browser build bundles its own parser). */
import * as gpujs from 'gpu.js';

type GpuJsModule = typeof gpujs;
const mod = gpujs as GpuJsModule & { default?: GpuJsModule };
export const GPU = (mod.GPU ?? mod.default?.GPU) as GpuJsModule['GPU'];
