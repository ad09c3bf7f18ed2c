#!/usr/bin/env bash
# On an NVIDIA machine without registry access (docs/runtime.md, "Hardware GPUs"): the WGSL benchmark under
# the carried Deno, the native CUDA kernel, and their ratio, all written under $OUT (or ./results).
# The machine there has no node_modules, so the TypeScript entry points travel as Deno bundles.
# From the project root here:  bash ../shared/device/prepare-carry.sh && bash bench/bundle-carry.sh
# There:                       source .carry/device-env.sh && bash bench/h200.sh
set -euo pipefail
out="${OUT:-results}"
mkdir -p "$out"
deno="${DENO:-deno}"
"$deno" run -A .carry/bench.js --gpu-only > "$out/wgsl.json"
bash bench/native/run-native.sh "$out/native.jsonl"
"$deno" run -A .carry/compare.js "$out/wgsl.json" "$out/native.jsonl" | tee "$out/ratio.json"
# The full Prinz 2003 grid (issue 4), chunks sized for a large GPU, if time is given ($H200_SWEEP_S seconds).
if [[ -n "${H200_SWEEP_S:-}" ]]; then
  sed 's/chunkSize: 65536/chunkSize: 262144/' examples/prinz-2003.yaml > /tmp/prinz-2003-full.yaml
  timeout "$H200_SWEEP_S" "$deno" run -A .carry/cli.js sweep /tmp/prinz-2003-full.yaml --out /tmp/prinz-2003-full > "$out/sweep.log" 2>&1 || true
  cp /tmp/prinz-2003-full/*.json "$out/" 2>/dev/null || true
fi
