/**
 * Side-by-side ratio of the WGSL kernel (bench/run.ts --gpu-only JSON) to the native CUDA kernel
 * (run-native.sh JSON lines), same machine, same run: WGSL fast vs CUDA --use_fast_math, WGSL accurate
 * vs CUDA precise, per N, primal kernels. Usage: deno run -A bench/native/compare.ts wgsl.json native.jsonl
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [wgslPath, nativePath] = process.argv.slice(2);
const wgsl = JSON.parse(readFileSync(wgslPath, 'utf8')).gpu;
const native = readFileSync(nativePath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.kind === 'timing');
const rows = [];
for (const t of native) {
  const math = t.fastMath ? 'fast' : 'accurate';
  const w = wgsl.runs.find((r: { N: number; lanes: number; math: string }) => r.N === t.N && r.lanes === 0 && r.math === math);
  if (w) rows.push({ N: t.N, wgslMath: math, cudaFastMath: t.fastMath, wgslNeuronStepsPerS: w.neuronStepsPerS, cudaNeuronStepsPerS: t.neuronStepsPerS, wgslOverCuda: w.neuronStepsPerS / t.neuronStepsPerS });
}
console.log(JSON.stringify({ adapter: wgsl.adapter, rows, costOf8LanesVs0: wgsl.costOf8LanesVs0 }, null, 2));
