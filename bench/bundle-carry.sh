#!/usr/bin/env bash
# Bundles the benchmark, the WGSL/CUDA comparison and the CLI into .carry/ (one file each, npm
# dependencies inlined) for a machine without node_modules or a registry, such as the lent H200.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mkdir -p .carry
deno=node_modules/deno/deno
"$deno" bundle --quiet --platform deno -o .carry/bench.js bench/run.ts
"$deno" bundle --quiet --platform deno -o .carry/compare.js bench/native/compare.ts
"$deno" bundle --quiet --platform deno -o .carry/cli.js src/cli/main.ts
# the sweep's shard-store worker, under the name the bundled CLI asks for beside itself (Deno runs
# the bundle's JavaScript as TypeScript without complaint)
"$deno" bundle --quiet --platform deno -o .carry/shard-store.worker.ts src/io/shard-store.worker.ts
ls -la .carry/*.js
