/**
 * Hand-written native CUDA reference of the Prinz 2003 STG neuron step, for speed ratios against the
 * WGSL kernel that ionsweep generates. Nothing here is generated: it is a faithful port of the plain
 * loop in bench/reference/prinz-plain.ts (which follows docs/models.md §3 and §5).
 *
 * Design (mirrors what the engine's GPU kernel does, so the ratio measures code quality, not layout):
 *  - one thread per neuron instance; the whole time loop of a launch runs inside the kernel with the
 *    13 states (V, [Ca], 11 gates) in registers;
 *  - the 8 maximal conductances come from a structure-of-arrays buffer g[k*N + i]
 *    (k = Na, CaT, CaS, A, KCa, Kd, H, leak), states live in SoA state[k*N + i] between launches;
 *  - observables on the fly: a running sum of V and [Ca] per instance and a spike counter (upward
 *    crossings of 0 mV), stored back at the end of every launch so nothing is lost between launches;
 *  - exponential Euler, "gates first" order (docs/models.md §5): gates advance with V and [Ca] of the
 *    previous step, conductances come from the new gates, then [Ca] and V advance.
 *
 * The arithmetic is `float` (WGSL has f32 only). Whether the device code uses fast math is decided
 * by nvcc's --use_fast_math, which nvcc does not announce through any macro visible to host code, so
 * the build must pass -DPRINZ_FAST_MATH=0|1 to match; main() cross-checks it against a device probe
 * (fast math flushes denormals to zero) and refuses to run on a mismatch.
 *
 * Usage: prinz --n N --steps-per-launch S --launches L [--dt 0.025] [--block 128] [--warmup 2]
 *              [--check] [--host-only]
 * Prints one JSON line. Timed runs start from the cold start, so meanV0/spikes0 are the mean V and
 * the number of spikes of instance 0 over the S·L timed steps from the cold start, no discard.
 * --check adds GPU results for the first min(N, 16) instances (the 16 distinct model neurons of
 * docs/models.md §6) and an f64 host run of the same equations for comparison. --host-only runs only
 * that f64 host reference (no GPU needed), e.g. to compare with prinz-plain.ts.
 *
 * What to expect from --check: over 5 s from the cold start the f64 host run reproduces
 * prinz-plain.ts to ~1e-8 mV in mean V with equal spike counts for 14 of the 16 neurons; LP 4 and LP 5
 * (instances 8, 9) are so sensitive that a 1e-13 mV change of the initial V moves their 1 s mean V by
 * up to ~0.5 mV, so two correct f64 codes (V8's exp vs glibc's) already differ there. An f32 run of the
 * same code on the host stayed within 2e-4 mV of f64 for instance 0 (AB/PD 1, 68 spikes in both).
 */
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef PRINZ_FAST_MATH
#error "compile with -DPRINZ_FAST_MATH=1 together with --use_fast_math, or -DPRINZ_FAST_MATH=0 without it"
#endif

#define CUDA_CHECK(call)                                                                        \
  do {                                                                                          \
    cudaError_t err_ = (call);                                                                  \
    if (err_ != cudaSuccess) {                                                                  \
      std::fprintf(stderr, "prinz: %s failed at %s:%d: %s\n", #call, __FILE__, __LINE__,        \
                   cudaGetErrorString(err_));                                                   \
      std::exit(2);                                                                             \
    }                                                                                           \
  } while (0)

// ---------------------------------------------------------------------------------------------
// The model (docs/models.md §3). Templated on the real type so the f64 host reference used by --check
// is literally the same code as the f32 kernel, only at a different precision.
// ---------------------------------------------------------------------------------------------

constexpr int kStates = 13;   // V, Ca, mNa, hNa, mCaT, hCaT, mCaS, hCaS, mA, hA, mKCa, mKd, mH
constexpr int kConds = 8;     // Na, CaT, CaS, A, KCa, Kd, H, leak
constexpr int kChunk = 256;   // steps summed in f32 before the partial sum goes into an f64 total
// No __launch_bounds__ on the step kernel: with one (even 256 or 128) nvcc 13.0's ptxas squeezed the
// precise build into 64 registers and spilled 48 bytes to local memory; without, both builds use about
// 80 registers and spill nothing. 80 registers allow blocks of up to 768 threads, so cap --block there
// (a launch that asks for too many registers fails and is reported by CUDA_CHECK anyway).
constexpr int kMaxBlock = 768;

// Overloads so the template picks expf/logf for float and exp/log for double. Under --use_fast_math
// nvcc turns expf/logf in device code into the __expf/__logf intrinsics (the point of that variant).
__host__ __device__ __forceinline__ float ex(float x) { return expf(x); }
__host__ __device__ __forceinline__ double ex(double x) { return exp(x); }
__host__ __device__ __forceinline__ float ln(float x) { return logf(x); }
__host__ __device__ __forceinline__ double ln(double x) { return log(x); }

template <typename T>
struct Cond {  // maximal conductances, mS/cm² (docs/models.md §3 table order)
  T Na, CaT, CaS, A, KCa, Kd, H, L;
};

template <typename T>
struct State {
  T V, Ca, mNa, hNa, mCaT, hCaT, mCaS, hCaS, mA, hA, mKCa, mKd, mH;
};

// σ(x) = 1/(1 + exp(x)) as in docs/models.md §3. Overflow of exp gives 1/inf = 0, the right limit.
template <typename T>
__host__ __device__ __forceinline__ T sig(T x) {
  return T(1) / (T(1) + ex(x));
}

// Exponential-Euler relaxation with x∞ and τ frozen over the step (docs/models.md §5).
template <typename T>
__host__ __device__ __forceinline__ T relax(T x, T inf, T tau, T dt) {
  return inf + (x - inf) * ex(-dt / tau);
}

/**
 * One exponential-Euler step, gates first (docs/models.md §5; the order of prinz-plain.ts line by line).
 * The constants are written as T(...) so that the float instance carries no double arithmetic: each
 * literal is rounded to T at compile time. Divisions are kept as docs/models.md writes them (x/−5.29, not
 * x·(−1/5.29)) so this kernel computes what the generated one is asked to compute.
 */
template <typename T>
__host__ __device__ __forceinline__ void step(State<T>& s, const Cond<T>& g, T dt) {
  // Constants of docs/models.md §3, identical to prinz-plain.ts.
  const T area = T(0.628e-3);  // cm²
  const T C = T(1);            // µF/cm²
  const T tauCa = T(200);      // ms
  const T f = T(14.96);        // µM/nA
  const T ca0 = T(0.05);       // µM
  const T ENa = T(50), EK = T(-80), EH = T(-20), EL = T(-50);
  const T rt2f = T(8.314462618 * 1000 * 283 / (2 * 96485.33212));  // RT/2F in mV (≈ 12.1936)

  const T V = s.V, Ca = s.Ca;

  // Gates first, all with the previous V and [Ca].
  s.mNa = relax(s.mNa, sig((V + T(25.5)) / T(-5.29)), T(2.64) - T(2.52) * sig((V + T(120)) / T(-25)), dt);
  s.hNa = relax(s.hNa, sig((V + T(48.9)) / T(5.18)),
                T(1.34) * sig((V + T(62.9)) / T(-10)) * (T(1.5) + sig((V + T(34.9)) / T(3.6))), dt);
  s.mCaT = relax(s.mCaT, sig((V + T(27.1)) / T(-7.2)), T(43.4) - T(42.6) * sig((V + T(68.1)) / T(-20.5)), dt);
  s.hCaT = relax(s.hCaT, sig((V + T(32.1)) / T(5.5)), T(210) - T(179.6) * sig((V + T(55)) / T(-16.9)), dt);
  s.mCaS = relax(s.mCaS, sig((V + T(33)) / T(-8.1)),
                 T(2.8) + T(14) / (ex((V + T(27)) / T(10)) + ex((V + T(70)) / T(-13))), dt);
  s.hCaS = relax(s.hCaS, sig((V + T(60)) / T(6.2)),
                 T(120) + T(300) / (ex((V + T(55)) / T(9)) + ex((V + T(65)) / T(-16))), dt);
  s.mA = relax(s.mA, sig((V + T(27.2)) / T(-8.7)), T(23.2) - T(20.8) * sig((V + T(32.9)) / T(-15.2)), dt);
  s.hA = relax(s.hA, sig((V + T(56.9)) / T(4.9)), T(77.2) - T(58.4) * sig((V + T(38.9)) / T(-26.5)), dt);
  s.mKCa = relax(s.mKCa, (Ca / (Ca + T(3))) * sig((V + T(28.3)) / T(-12.6)),
                 T(180.6) - T(150.2) * sig((V + T(46)) / T(-22.7)), dt);
  s.mKd = relax(s.mKd, sig((V + T(12.3)) / T(-11.8)), T(14.4) - T(12.8) * sig((V + T(28.3)) / T(-19.2)), dt);
  // H: the τ form of docs/models.md §3, not the exp(−14.59 − 0.086V) form of Prinz's C code (≤ 1.2 % apart).
  s.mH = relax(s.mH, sig((V + T(75)) / T(5.5)),
               T(2) / (ex((V + T(169.7)) / T(-11.6)) + ex((V - T(26.7)) / T(14.3))), dt);

  // Conductances from the new gates; powers as left-to-right products, like the engine's powi.
  const T G_Na = g.Na * s.mNa * s.mNa * s.mNa * s.hNa;
  const T G_CaT = g.CaT * s.mCaT * s.mCaT * s.mCaT * s.hCaT;
  const T G_CaS = g.CaS * s.mCaS * s.mCaS * s.mCaS * s.hCaS;
  const T G_A = g.A * s.mA * s.mA * s.mA * s.hA;
  const T G_KCa = g.KCa * s.mKCa * s.mKCa * s.mKCa * s.mKCa;
  const T G_Kd = g.Kd * s.mKd * s.mKd * s.mKd * s.mKd;
  const T G_H = g.H * s.mH;
  // E_Ca from the previous [Ca] (docs/models.md §5 detail 1); [Ca]_out = 3000 µM.
  const T ECa = rt2f * ln(T(3000) / Ca);

  // Calcium, then V, from the previous V and [Ca]. f multiplies the current in nA, hence area·1000
  // (docs/models.md §3: leaving the area out is a known factor-10 bug).
  const T ICa = (G_CaT + G_CaS) * (V - ECa);
  const T caInf = ca0 - f * area * T(1000) * ICa;
  const T caNew = caInf + (Ca - caInf) * ex(-dt / tauCa);
  const T G = G_Na + G_CaT + G_CaS + G_A + G_KCa + G_Kd + G_H + g.L;
  const T GE = G_Na * ENa + (G_CaT + G_CaS) * ECa + (G_A + G_KCa + G_Kd) * EK + G_H * EH + g.L * EL;
  // G = 0 happens at the cold start when g_leak = 0 (docs/models.md §5 detail 3); with I_ext = 0 the
  // forward-Euler fallback leaves V unchanged, exactly as prinz-plain.ts does.
  const T vNew = G > T(0) ? GE / G + (V - GE / G) * ex((-dt * G) / C) : V;

  s.V = vNew;
  s.Ca = caNew;
}

// Cold start used by Prinz (docs/models.md §3): V = −50 mV, [Ca] = 0.05 µM, every m = 0, every h = 1.
template <typename T>
__host__ __device__ __forceinline__ State<T> coldStart() {
  State<T> s;
  s.V = T(-50); s.Ca = T(0.05);
  s.mNa = T(0); s.hNa = T(1); s.mCaT = T(0); s.hCaT = T(1); s.mCaS = T(0); s.hCaS = T(1);
  s.mA = T(0); s.hA = T(1); s.mKCa = T(0); s.mKd = T(0); s.mH = T(0);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

__global__ void initKernel(int N, float* __restrict__ state, double* __restrict__ sumV,
                           double* __restrict__ sumCa, unsigned* __restrict__ spikes) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N) return;
  const State<float> s = coldStart<float>();
  const float v[kStates] = {s.V, s.Ca, s.mNa, s.hNa, s.mCaT, s.hCaT, s.mCaS, s.hCaS, s.mA, s.hA, s.mKCa, s.mKd, s.mH};
  for (int k = 0; k < kStates; k++) state[(size_t)k * N + i] = v[k];
  sumV[i] = 0.0;
  sumCa[i] = 0.0;
  spikes[i] = 0u;
}

/**
 * Advances every instance by `steps` steps. Loads (coalesced SoA) once, loops in registers, stores
 * once. Sums are kept in f32 over chunks of kChunk steps and then added to an f64 total, so the
 * per-step cost is one f32 add per observable (what an f32-only WGSL kernel can afford) while the
 * rounding error of a long launch stays at the level of a 256-term f32 sum.
 */
__global__ void prinzKernel(int N, int steps, float dt, const float* __restrict__ gBuf,
                                                    float* __restrict__ state, double* __restrict__ sumV,
                                                    double* __restrict__ sumCa, unsigned* __restrict__ spikes) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N) return;
  const size_t n = (size_t)N;

  Cond<float> g;
  g.Na = gBuf[0 * n + i]; g.CaT = gBuf[1 * n + i]; g.CaS = gBuf[2 * n + i]; g.A = gBuf[3 * n + i];
  g.KCa = gBuf[4 * n + i]; g.Kd = gBuf[5 * n + i]; g.H = gBuf[6 * n + i]; g.L = gBuf[7 * n + i];

  State<float> s;
  s.V = state[0 * n + i];    s.Ca = state[1 * n + i];   s.mNa = state[2 * n + i];  s.hNa = state[3 * n + i];
  s.mCaT = state[4 * n + i]; s.hCaT = state[5 * n + i]; s.mCaS = state[6 * n + i]; s.hCaS = state[7 * n + i];
  s.mA = state[8 * n + i];   s.hA = state[9 * n + i];   s.mKCa = state[10 * n + i];
  s.mKd = state[11 * n + i]; s.mH = state[12 * n + i];

  double totV = sumV[i], totCa = sumCa[i];
  unsigned nSpikes = spikes[i];

  for (int done = 0; done < steps; done += kChunk) {
    const int m = min(kChunk, steps - done);
    float partV = 0.0f, partCa = 0.0f;
#pragma unroll 1
    for (int j = 0; j < m; j++) {
      const float vPrev = s.V;
      step<float>(s, g, dt);
      // Spike = upward crossing of 0 mV, as in prinz-plain.ts (V < 0 before, ≥ 0 after).
      nSpikes += (vPrev < 0.0f && s.V >= 0.0f) ? 1u : 0u;
      partV += s.V;
      partCa += s.Ca;
    }
    totV += (double)partV;
    totCa += (double)partCa;
  }

  state[0 * n + i] = s.V;    state[1 * n + i] = s.Ca;   state[2 * n + i] = s.mNa;  state[3 * n + i] = s.hNa;
  state[4 * n + i] = s.mCaT; state[5 * n + i] = s.hCaT; state[6 * n + i] = s.mCaS; state[7 * n + i] = s.hCaS;
  state[8 * n + i] = s.mA;   state[9 * n + i] = s.hA;   state[10 * n + i] = s.mKCa;
  state[11 * n + i] = s.mKd; state[12 * n + i] = s.mH;
  sumV[i] = totV;
  sumCa[i] = totCa;
  spikes[i] = nSpikes;
}

// Fast math implies flush-to-zero of f32 denormals: a denormal x times 1 is 0 under FTZ (and the
// comparison with 0 flushes too). Both operands come from the host at run time so nothing folds.
__global__ void ftzProbe(float x, float one, int* out) { *out = (x * one == 0.0f) ? 1 : 0; }

// ---------------------------------------------------------------------------------------------
// Host side
// ---------------------------------------------------------------------------------------------

// The 16 model neurons of docs/models.md §6 (Na, CaT, CaS, A, KCa, Kd, H, leak; mS/cm²).
static const double kNeurons[16][kConds] = {
    {400, 2.5, 6, 50, 10, 100, 0.01, 0},     // AB/PD 1
    {100, 2.5, 6, 50, 5, 100, 0.01, 0},      // AB/PD 2
    {200, 2.5, 4, 50, 5, 50, 0.01, 0},       // AB/PD 3
    {200, 5.0, 4, 40, 5, 125, 0.01, 0},      // AB/PD 4
    {300, 2.5, 2, 10, 5, 125, 0.01, 0},      // AB/PD 5
    {100, 0, 8, 40, 5, 75, 0.05, 0.02},      // LP 1
    {100, 0, 6, 30, 5, 50, 0.05, 0.02},      // LP 2
    {100, 0, 10, 50, 5, 100, 0, 0.03},       // LP 3
    {100, 0, 4, 20, 0, 25, 0.05, 0.03},      // LP 4
    {100, 0, 6, 30, 0, 50, 0.03, 0.02},      // LP 5
    {100, 2.5, 2, 50, 0, 125, 0.05, 0.01},   // PY 1
    {200, 7.5, 0, 50, 0, 75, 0.05, 0},       // PY 2
    {200, 10, 0, 50, 0, 100, 0.03, 0},       // PY 3
    {400, 2.5, 2, 50, 0, 75, 0.05, 0},       // PY 4
    {500, 2.5, 2, 40, 0, 125, 0.01, 0.03},   // PY 5
    {500, 2.5, 2, 40, 0, 125, 0, 0.02},      // PY 6
};

struct Args {
  long long n = 1024;
  long long stepsPerLaunch = 4000;
  long long launches = 10;
  double dt = 0.025;
  int block = 128;
  int warmup = 2;
  bool check = false;
  bool hostOnly = false;
};

[[noreturn]] static void usage(const char* msg) {
  std::fprintf(stderr,
               "prinz: %s\nusage: prinz --n N --steps-per-launch S --launches L [--dt 0.025] [--block 128] "
               "[--warmup 2] [--check] [--host-only]\n",
               msg);
  std::exit(1);
}

static long long parseInt(const char* s, const char* name) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0) usage((std::string("bad value for ") + name).c_str());
  return v;
}

static Args parseArgs(int argc, char** argv) {
  Args a;
  for (int k = 1; k < argc; k++) {
    const std::string o = argv[k];
    auto next = [&]() -> const char* {
      if (k + 1 >= argc) usage(("missing value after " + o).c_str());
      return argv[++k];
    };
    if (o == "--n") a.n = parseInt(next(), "--n");
    else if (o == "--steps-per-launch") a.stepsPerLaunch = parseInt(next(), "--steps-per-launch");
    else if (o == "--launches") a.launches = parseInt(next(), "--launches");
    else if (o == "--block") a.block = (int)parseInt(next(), "--block");
    else if (o == "--warmup") {
      const char* s = next();
      char* end = nullptr;
      a.warmup = (int)std::strtol(s, &end, 10);
      if (end == s || *end != '\0' || a.warmup < 0) usage("bad value for --warmup");
    } else if (o == "--dt") {
      const char* s = next();
      char* end = nullptr;
      a.dt = std::strtod(s, &end);
      if (end == s || *end != '\0' || !(a.dt > 0)) usage("bad value for --dt");
    } else if (o == "--check") a.check = true;
    else if (o == "--host-only") a.hostOnly = true;
    else usage(("unknown option " + o).c_str());
  }
  if (a.n > 0x7fffffffLL) usage("--n too large");
  if (a.stepsPerLaunch > 0x7fffffffLL) usage("--steps-per-launch too large");
  if (a.block > kMaxBlock) usage("--block at most 768 (kMaxBlock)");
  return a;
}

struct HostRun {
  double meanV, meanCa;
  long long spikes;
};

// f64 host reference: the same step<> as the kernel, cold start, no discard, all `steps` steps.
static HostRun hostReference(const double gRow[kConds], long long steps, double dt) {
  Cond<double> g{gRow[0], gRow[1], gRow[2], gRow[3], gRow[4], gRow[5], gRow[6], gRow[7]};
  State<double> s = coldStart<double>();
  double sumV = 0, sumCa = 0;
  long long spikes = 0;
  for (long long k = 0; k < steps; k++) {
    const double vPrev = s.V;
    step<double>(s, g, dt);
    if (vPrev < 0 && s.V >= 0) spikes++;
    sumV += s.V;
    sumCa += s.Ca;
  }
  return {sumV / (double)steps, sumCa / (double)steps, spikes};
}

static void printHostArray(const std::vector<HostRun>& r) {
  std::printf("{\"meanV\":[");
  for (size_t k = 0; k < r.size(); k++) std::printf("%s%.9g", k ? "," : "", r[k].meanV);
  std::printf("],\"meanCa\":[");
  for (size_t k = 0; k < r.size(); k++) std::printf("%s%.9g", k ? "," : "", r[k].meanCa);
  std::printf("],\"spikes\":[");
  for (size_t k = 0; k < r.size(); k++) std::printf("%s%lld", k ? "," : "", r[k].spikes);
  std::printf("]}");
}

static std::vector<HostRun> hostReferences(long long count, long long steps, double dt) {
  std::vector<HostRun> r;
  for (long long k = 0; k < count; k++) r.push_back(hostReference(kNeurons[k % 16], steps, dt));
  return r;
}

int main(int argc, char** argv) {
  const Args a = parseArgs(argc, argv);
  const bool fastMath = PRINZ_FAST_MATH != 0;
  const long long totalSteps = a.stepsPerLaunch * a.launches;
  const long long nCheck = a.n < 16 ? a.n : 16;

  if (a.hostOnly) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<HostRun> ref = hostReferences(nCheck, totalSteps, a.dt);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"kernel\":\"prinz-host-f64\",\"N\":%lld,\"steps\":%lld,\"dt\":%.9g,\"seconds\":%.6f,"
                "\"neuronStepsPerS\":%.6e,\"meanV0\":%.9g,\"spikes0\":%lld,\"hostF64\":",
                nCheck, totalSteps, a.dt, secs, (double)nCheck * (double)totalSteps / secs, ref[0].meanV,
                ref[0].spikes);
    printHostArray(ref);
    std::printf("}\n");
    return 0;
  }

  const int N = (int)a.n;
  const size_t n = (size_t)N;
  cudaDeviceProp prop;
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));

  // Refuse to report a fastMath flag that the device code does not match.
  {
    int* dProbe = nullptr;
    int probe = -1;
    CUDA_CHECK(cudaMalloc(&dProbe, sizeof(int)));
    ftzProbe<<<1, 1>>>(1e-40f, 1.0f, dProbe);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaMemcpy(&probe, dProbe, sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(dProbe));
    if ((probe == 1) != fastMath) {
      std::fprintf(stderr, "prinz: built with PRINZ_FAST_MATH=%d but the device code %s denormals\n",
                   (int)fastMath, probe == 1 ? "flushes" : "keeps");
      return 3;
    }
  }

  // Conductances: instance i is model neuron i mod 16 of docs/models.md §6.
  std::vector<float> hG((size_t)kConds * n);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < kConds; k++) hG[(size_t)k * n + i] = (float)kNeurons[i % 16][k];

  float *dG = nullptr, *dState = nullptr;
  double *dSumV = nullptr, *dSumCa = nullptr;
  unsigned* dSpikes = nullptr;
  CUDA_CHECK(cudaMalloc(&dG, sizeof(float) * kConds * n));
  CUDA_CHECK(cudaMalloc(&dState, sizeof(float) * kStates * n));
  CUDA_CHECK(cudaMalloc(&dSumV, sizeof(double) * n));
  CUDA_CHECK(cudaMalloc(&dSumCa, sizeof(double) * n));
  CUDA_CHECK(cudaMalloc(&dSpikes, sizeof(unsigned) * n));
  CUDA_CHECK(cudaMemcpy(dG, hG.data(), sizeof(float) * kConds * n, cudaMemcpyHostToDevice));

  const int block = a.block;
  const int grid = (int)((n + block - 1) / block);
  const int S = (int)a.stepsPerLaunch;
  const float dt = (float)a.dt;

  // Warm-up: module load, clocks up, caches; then back to the cold start so the timed run is a
  // well-defined simulation whose instance-0 results can be checked.
  initKernel<<<grid, block>>>(N, dState, dSumV, dSumCa, dSpikes);
  CUDA_CHECK(cudaGetLastError());
  for (int w = 0; w < a.warmup; w++) {
    prinzKernel<<<grid, block>>>(N, S, dt, dG, dState, dSumV, dSumCa, dSpikes);
    CUDA_CHECK(cudaGetLastError());
  }
  initKernel<<<grid, block>>>(N, dState, dSumV, dSumCa, dSpikes);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaDeviceSynchronize());

  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  CUDA_CHECK(cudaEventRecord(start));
  for (long long l = 0; l < a.launches; l++) {
    prinzKernel<<<grid, block>>>(N, S, dt, dG, dState, dSumV, dSumCa, dSpikes);
  }
  CUDA_CHECK(cudaEventRecord(stop));
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaEventSynchronize(stop));
  CUDA_CHECK(cudaDeviceSynchronize());
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  const double seconds = ms / 1000.0;

  std::vector<double> sumV(nCheck), sumCa(nCheck);
  std::vector<unsigned> spikes(nCheck);
  CUDA_CHECK(cudaMemcpy(sumV.data(), dSumV, sizeof(double) * nCheck, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(sumCa.data(), dSumCa, sizeof(double) * nCheck, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(spikes.data(), dSpikes, sizeof(unsigned) * nCheck, cudaMemcpyDeviceToHost));

  // Any non-finite V anywhere would make the timing meaningless (exp of NaN is as fast as any other).
  long long nonFinite = 0;
  {
    std::vector<float> v(n);
    CUDA_CHECK(cudaMemcpy(v.data(), dState, sizeof(float) * n, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++) nonFinite += std::isfinite(v[i]) ? 0 : 1;
  }

  const double neuronSteps = (double)N * (double)totalSteps;
  std::printf("{\"kernel\":\"prinz-cuda\",\"fastMath\":%s,\"N\":%d,\"steps\":%lld,\"stepsPerLaunch\":%d,"
              "\"launches\":%lld,\"dt\":%.9g,\"block\":%d,\"seconds\":%.6f,\"secondsPerLaunch\":%.6f,"
              "\"neuronStepsPerS\":%.6e,\"meanV0\":%.9g,\"meanCa0\":%.9g,\"spikes0\":%u,\"nonFiniteV\":%lld,"
              "\"device\":\"%s\",\"sm\":\"%d.%d\",\"smCount\":%d,\"cudaRuntime\":%d",
              fastMath ? "true" : "false", N, totalSteps, S, a.launches, a.dt, block, seconds,
              seconds / (double)a.launches, neuronSteps / seconds, sumV[0] / (double)totalSteps,
              sumCa[0] / (double)totalSteps, spikes[0], nonFinite, prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, CUDART_VERSION);
  if (a.check) {
    std::printf(",\"gpu\":{\"meanV\":[");
    for (long long k = 0; k < nCheck; k++) std::printf("%s%.9g", k ? "," : "", sumV[k] / (double)totalSteps);
    std::printf("],\"meanCa\":[");
    for (long long k = 0; k < nCheck; k++) std::printf("%s%.9g", k ? "," : "", sumCa[k] / (double)totalSteps);
    std::printf("],\"spikes\":[");
    for (long long k = 0; k < nCheck; k++) std::printf("%s%u", k ? "," : "", spikes[k]);
    std::printf("]},\"hostF64\":");
    printHostArray(hostReferences(nCheck, totalSteps, a.dt));
  }
  std::printf("}\n");

  CUDA_CHECK(cudaEventDestroy(start));
  CUDA_CHECK(cudaEventDestroy(stop));
  CUDA_CHECK(cudaFree(dG));
  CUDA_CHECK(cudaFree(dState));
  CUDA_CHECK(cudaFree(dSumV));
  CUDA_CHECK(cudaFree(dSumCa));
  CUDA_CHECK(cudaFree(dSpikes));
  return nonFinite == 0 ? 0 : 4;
}
