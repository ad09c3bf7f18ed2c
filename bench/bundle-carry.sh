#!/usr/bin/env bash
# Bundles the benchmark, the WGSL/CUDA comparison and the CLI into .carry/ (one file each, npm
# dependencies inlined) for a machine without node_modules or a registry, such as the lent H200.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mkdir -p .carry
deno=node_modules/deno/deno
"$deno" bundle --quiet --platform deno -o .carry/bench.js bench/run.ts
"$deno" bundle --quiet --platform deno -o .carry/compare.js bench/native/compare.ts
"$deno" bundle --quiet --platform deno -o .carry/compare-classes.js bench/compare-classes.ts
"$deno" bundle --quiet --platform deno -o .carry/cli.js src/cli/main.ts
# the workers the CLI starts, under the names the bundled CLI asks for beside itself (Deno runs the
# bundles' JavaScript as TypeScript without complaint): the sweep's shard store, its chunk encoders
# (--host-workers, 8 by default on a 16-core machine) and the signal watchdog
for worker in src/io/shard-store.worker.ts src/io/chunk-encoder.worker.ts src/cli/watchdog.worker.ts; do
  "$deno" bundle --quiet --platform deno -o ".carry/$(basename "$worker")" "$worker"
done
ls -la .carry/*.js
