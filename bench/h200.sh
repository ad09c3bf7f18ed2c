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
# The pyloric network database (issue 18): the bench's network-step ratios on this GPU, then two settings
# of the cells end to end (270,000 networks in two chunks, 1/75 of the database: its wall time × 75
# is the whole database's, host work included). Chunks of one setting each: 8,192 networks would
# leave most of a large GPU idle, and the chunk size changes no row; they plan 10.5 GB, over the
# default memory limit of 8 GiB.
"$deno" run -A .carry/bench.js --network-database-only > "$out/network-database.json" 2> "$out/network-database.log" || true
sed 's/^chunkSize: 8192/chunkSize: 135000/' examples/prinz-2004.yaml > /tmp/prinz-2004-gpu.yaml
IONSWEEP_MEMORY_LIMIT_GB=32 timeout "${H200_NETWORK_SHARD_S:-300}" "$deno" run -A .carry/cli.js sweep /tmp/prinz-2004-gpu.yaml --shard 0/75 --out /tmp/prinz-2004-gpu > "$out/network-shard.log" 2>&1 || true
cp /tmp/prinz-2004-gpu/*.json "$out/" 2>/dev/null || true
# NVIDIA's exp against the engine's own: the sample's first shard (2,025 networks) with the platform's
# exp (the spec's) and with the accurate one, compared (bench/compare-classes.ts). On lavapipe, this
# section as it stands: 2,011 of 2,025 network classes the same, cells 5,873 of 6,075, periods 4.7e-6
# apart (median); on the sample's first 256 networks each exp gives the f64 engine's class for 254
sed 's/^gpuMath: fast/gpuMath: accurate/' examples/prinz-2004-sample.yaml > /tmp/prinz-2004-sample-accurate.yaml
for spec in examples/prinz-2004-sample.yaml /tmp/prinz-2004-sample-accurate.yaml; do
  name=$(basename "$spec" .yaml)
  timeout "${H200_EXP_CHECK_S:-180}" "$deno" run -A .carry/cli.js sweep "$spec" --shard 0/10 --out "/tmp/exp-check/$name" > "$out/exp-check-$name.log" 2>&1 || true
  cp "/tmp/exp-check/$name/shard-00000-of-00010.json" "$out/exp-check-$name.json" 2>/dev/null || true
done
"$deno" run -A .carry/compare-classes.js /tmp/exp-check/prinz-2004-sample /tmp/exp-check/prinz-2004-sample-accurate > "$out/exp-check.json" 2>&1 || true
