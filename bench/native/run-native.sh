#!/usr/bin/env bash
# Native CUDA reference for the speed ratios of the WGSL kernel (see prinz.cu).
#
# Builds prinz.cu twice, with and without nvcc's fast math, and for each N in $PRINZ_NS times
# roughly 2e10..4e10 neuron-steps (capped at $PRINZ_MAX_SECONDS of GPU time per N and variant), each
# launch sized to about $PRINZ_LAUNCH_SECONDS of GPU time (the same dispatch length the WGSL engine
# uses to stay clear of watchdogs; docs/runtime.md "WGSL numerics"). Launch sizes come from a short
# calibration run per N, so the script needs no prior knowledge of the GPU.
#
# Output: JSON lines on stdout, or into the file given as $1:
#   {"kind":"header", ...}    toolchain and GPU versions, compile flags, registers per thread
#   {"kind":"check", ...}     5 s of biology for the 16 model neurons, GPU f32 next to a host f64 run
#   {"kind":"timing", ...}    one line per variant and N (the binary's line, see prinz.cu)
# Progress goes to stderr. Needs nvcc and an NVIDIA GPU; no network, no jq, no python.
#
# Knobs (environment): PRINZ_NS, PRINZ_TARGET_NEURON_STEPS (3e10), PRINZ_MAX_SECONDS (9),
# PRINZ_LAUNCH_SECONDS (0.075), PRINZ_BLOCK (128), PRINZ_ARCH (sm_90, the H200), PRINZ_BUILD_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-}"
build="${PRINZ_BUILD_DIR:-$here/build}"
ns="${PRINZ_NS:-1024 16384 262144 1048576}"
target="${PRINZ_TARGET_NEURON_STEPS:-3e10}"
max_seconds="${PRINZ_MAX_SECONDS:-9}"
launch_seconds="${PRINZ_LAUNCH_SECONDS:-0.075}"
block="${PRINZ_BLOCK:-128}"
arch="${PRINZ_ARCH:-sm_90}"
dt="0.025"

log() { printf '[run-native] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# JSON string body: escape backslashes and quotes, drop control characters.
json_esc() { printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
# Value of a numeric field in one line of the binary's JSON.
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"; }

if ! command -v nvcc >/dev/null 2>&1; then
  [[ -x /usr/local/cuda/bin/nvcc ]] && PATH="/usr/local/cuda/bin:$PATH" || die "nvcc not found"
fi
command -v nvidia-smi >/dev/null 2>&1 || log "warning: nvidia-smi not found; GPU fields will read \"unknown\""

mkdir -p "$build"
if [[ -n "$out" ]]; then
  mkdir -p "$(dirname "$out")"
  exec >"$out"
fi

# ---- build ------------------------------------------------------------------------------------
# fast: nvcc's --use_fast_math (ftz, approximate division and sqrt, __expf/__logf), the closest to
# what a Vulkan driver is allowed to do with WGSL's f32. precise: IEEE division, accurate expf/logf,
# denormals kept. Both keep nvcc's default FMA contraction. PRINZ_FAST_MATH tells the host code
# which one it is (nvcc sets no macro for it); the binary cross-checks it on the device.
flags_fast="-O3 -arch=$arch --use_fast_math -DPRINZ_FAST_MATH=1"
flags_precise="-O3 -arch=$arch -DPRINZ_FAST_MATH=0"
declare -A regs
for v in fast precise; do
  flags_var="flags_$v"
  log "nvcc ${!flags_var} -Xptxas -v -o $build/prinz-$v prinz.cu"
  # shellcheck disable=SC2086  # the flags are meant to split
  nvcc ${!flags_var} -Xptxas -v -o "$build/prinz-$v" "$here/prinz.cu" 2>"$build/ptxas-$v.log" \
    || { cat "$build/ptxas-$v.log" >&2; die "compile of the $v variant failed"; }
  # registers per thread of the step kernel (ptxas prints them after the kernel's mangled name)
  regs[$v]="$(awk '/Compiling entry function .*prinzKernel/ {k=1} k && /Used [0-9]+ registers/ {
      for (i = 1; i <= NF; i++) if ($i == "Used") { print $(i+1); exit } }' "$build/ptxas-$v.log")"
  if grep -A2 'prinzKernel' "$build/ptxas-$v.log" | grep -q '[1-9][0-9]* bytes spill'; then
    log "warning: the $v step kernel spills registers"
  fi
done

# ---- header -----------------------------------------------------------------------------------
nvcc_version="$(nvcc --version | grep -i 'release' | head -n1 || true)"
smi_csv="unknown, unknown, unknown"
cuda_driver_api="unknown"
if command -v nvidia-smi >/dev/null 2>&1; then
  smi_csv="$(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null | head -n1 || true)"
  cuda_driver_api="$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: *[0-9.]*' | head -n1 | sed 's/.*: *//' || true)"
fi
IFS=',' read -r gpu_name driver_version max_sm_clock <<<"$smi_csv"
printf '{"kind":"header","script":"bench/native/run-native.sh","date":"%s","host":"%s","nvcc":"%s","gpu":"%s","driver":"%s","driverCudaVersion":"%s","maxSmClock":"%s","flags":{"fast":"%s","precise":"%s"},"registers":{"fast":%s,"precise":%s},"block":%s,"dt":%s,"targetNeuronSteps":%s,"maxSeconds":%s,"launchSeconds":%s}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(json_esc "$(hostname)")" "$(json_esc "$nvcc_version")" \
  "$(json_esc "${gpu_name# }")" "$(json_esc "${driver_version# }")" "$(json_esc "$cuda_driver_api")" \
  "$(json_esc "${max_sm_clock# }")" "$flags_fast" "$flags_precise" "${regs[fast]:-null}" "${regs[precise]:-null}" \
  "$block" "$dt" "$target" "$max_seconds" "$launch_seconds"

# ---- correctness check ------------------------------------------------------------------------
# 16 instances = the 16 model neurons of docs/models.md §6, 5 s of biology from the cold start, next to
# the same equations in f64 on the host. Expect close agreement for most cells; a few (LP 4, LP 5)
# are sensitive enough that even two f64 implementations drift apart (see prinz.cu's header).
for v in fast precise; do
  log "check ($v)"
  line="$("$build/prinz-$v" --n 16 --steps-per-launch 40000 --launches 5 --dt "$dt" --block "$block" --warmup 1 --check)"
  printf '%s\n' "${line/#\{/{\"kind\":\"check\",}"
done

# ---- timings ----------------------------------------------------------------------------------
for v in fast precise; do
  for n in $ns; do
    # Calibration: about 2e8 neuron-steps per launch, 3 launches; only the rate is used.
    s0="$(awk -v n="$n" 'BEGIN { s = int(2e8 / n + 0.5); if (s < 100) s = 100; if (s > 200000) s = 200000; print s }')"
    cal="$("$build/prinz-$v" --n "$n" --steps-per-launch "$s0" --launches 3 --dt "$dt" --block "$block" --warmup 1)"
    rate="$(field "$cal" neuronStepsPerS)"
    [[ "$rate" =~ ^[0-9.]+([eE][-+]?[0-9]+)?$ ]] || die "calibration for $v N=$n gave no rate: $cal"
    # Each launch ≈ launch_seconds; total ≈ target neuron-steps, at most max_seconds, at least 3 launches.
    s="$(awk -v r="$rate" -v n="$n" -v t="$launch_seconds" 'BEGIN {
        s = int(r * t / n + 0.5); if (s < 100) s = 100; if (s > 2000000000) s = 2000000000; print s }')"
    l="$(awk -v r="$rate" -v n="$n" -v s="$s" -v tgt="$target" -v cap="$max_seconds" 'BEGIN {
        tot = tgt + 0; if (tot > r * cap) tot = r * cap; l = int(tot / (n * s) + 0.5); if (l < 3) l = 3; print l }')"
    log "$v N=$n: calibrated $rate neuron-steps/s -> $l launches of $s steps"
    line="$("$build/prinz-$v" --n "$n" --steps-per-launch "$s" --launches "$l" --dt "$dt" --block "$block" --warmup 2)"
    printf '%s\n' "${line/#\{/{\"kind\":\"timing\",}"
  done
done
log "done"
