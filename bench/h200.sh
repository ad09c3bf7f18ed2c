#!/usr/bin/env bash
# On an NVIDIA machine without registry access (ENVIRONMENT.md, last section): the WGSL benchmark under
# the carried Deno, the native CUDA kernel, and their ratio, all written under $OUT (or ./results).
# From the project root here:  bash ../shared/device/prepare-carry.sh
# There:                       source .carry/device-env.sh && bash bench/h200.sh
set -euo pipefail
out="${OUT:-results}"
mkdir -p "$out"
deno="${DENO:-deno}"
"$deno" run -A bench/run.ts --gpu-only > "$out/wgsl.json"
bash bench/native/run-native.sh "$out/native.jsonl"
"$deno" run -A bench/native/compare.ts "$out/wgsl.json" "$out/native.jsonl" | tee "$out/ratio.json"
