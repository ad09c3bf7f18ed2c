/**
 * CMA-ES (Hansen's covariance matrix adaptation evolution strategy, the (μ/μ_w, λ) form with
 * cumulative step-size adaptation and rank-one plus rank-μ covariance updates; Hansen 2016, "The CMA
 * Evolution Strategy: A Tutorial", default constants of its Table 1) for many independent searches at
 * once: each start is one search, each generation one ensemble run with λ instances per start. It
 * needs only cost values, so it is the optimiser for costs whose gradients mean little: features of a
 * freely running spiking cell (burst period, duty cycle), where the cost changes in steps as spikes
 * come and go.
 */
import { InputError } from '../../errors.ts';
import { hashUniform } from '../sweep/sampling.ts';

export interface CmaEsOptions {
  /** candidates per generation and start (default 4 + ⌊3 ln D⌋) */
  populationSize?: number;
  /** initial step size, as a fraction of the box's width in each coordinate (default 0.3) */
  initialStep?: number;
  seed: number;
}

/** A standard normal deviate from (seed, index, d): searches are pure functions of their seed. */
function normal(seed: number, index: number, d: number): number {
  const u1 = Math.max(hashUniform(seed, index, 2 * d), 1e-300), u2 = hashUniform(seed, index, 2 * d + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Eigen-decomposition of a symmetric D × D matrix (row-major) by cyclic Jacobi rotations: C = B·diag(w)·Bᵀ. */
export function symmetricEigen(C: Float64Array, D: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(C);
  const V = new Float64Array(D * D);
  for (let i = 0; i < D; i++) V[i * D + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < D; p++) for (let q = p + 1; q < D; q++) off += A[p * D + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < D; p++) {
      for (let q = p + 1; q < D; q++) {
        const apq = A[p * D + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * D + q] - A[p * D + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < D; k++) {
          const akp = A[k * D + p], akq = A[k * D + q];
          A[k * D + p] = c * akp - s * akq;
          A[k * D + q] = s * akp + c * akq;
        }
        for (let k = 0; k < D; k++) {
          const apk = A[p * D + k], aqk = A[q * D + k];
          A[p * D + k] = c * apk - s * aqk;
          A[q * D + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < D; k++) {
          const vkp = V[k * D + p], vkq = V[k * D + q];
          V[k * D + p] = c * vkp - s * vkq;
          V[k * D + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: D }, (_, i) => A[i * D + i]), vectors: V };
}

/** One CMA-ES search in D dimensions. */
export class CmaEs {
  readonly lambda: number;
  readonly mu: number;
  private readonly weights: Float64Array;
  private readonly muEff: number;
  private readonly cc: number;
  private readonly cs: number;
  private readonly c1: number;
  private readonly cmu: number;
  private readonly damps: number;
  private readonly chiN: number;
  readonly mean: Float64Array;
  sigma: number;
  private readonly C: Float64Array;
  private readonly pc: Float64Array;
  private readonly ps: Float64Array;
  private B: Float64Array;
  private Dsqrt: Float64Array;
  private generation = 0;
  /** the candidates of the current generation, [k][d], and their N(0, I) draws */
  private candidates: Float64Array[] = [];
  private draws: Float64Array[] = [];

  /** `scale[d]`: the box width in coordinate d; steps are relative to it (C starts as diag(scale²)). */
  constructor(readonly D: number, start: ArrayLike<number>, scale: ArrayLike<number>, readonly seed: number, options: Omit<CmaEsOptions, 'seed'> = {}) {
    this.lambda = options.populationSize ?? 4 + Math.floor(3 * Math.log(D));
    if (!Number.isInteger(this.lambda) || this.lambda < 2) throw new InputError(`cmaEs.populationSize must be an integer ≥ 2, got ${this.lambda}`);
    this.mu = Math.floor(this.lambda / 2);
    const raw = Array.from({ length: this.mu }, (_, i) => Math.log((this.lambda + 1) / 2) - Math.log(i + 1));
    const sum = raw.reduce((a, b) => a + b, 0);
    this.weights = Float64Array.from(raw, (w) => w / sum);
    this.muEff = 1 / this.weights.reduce((a, w) => a + w * w, 0);
    this.cc = (4 + this.muEff / D) / (D + 4 + (2 * this.muEff) / D);
    this.cs = (this.muEff + 2) / (D + this.muEff + 5);
    this.c1 = 2 / ((D + 1.3) ** 2 + this.muEff);
    this.cmu = Math.min(1 - this.c1, (2 * (this.muEff - 2 + 1 / this.muEff)) / ((D + 2) ** 2 + this.muEff));
    this.damps = 1 + 2 * Math.max(0, Math.sqrt((this.muEff - 1) / (D + 1)) - 1) + this.cs;
    this.chiN = Math.sqrt(D) * (1 - 1 / (4 * D) + 1 / (21 * D * D));
    this.mean = Float64Array.from(start);
    this.sigma = options.initialStep ?? 0.3;
    this.C = new Float64Array(D * D);
    for (let d = 0; d < D; d++) this.C[d * D + d] = scale[d] ** 2;
    this.pc = new Float64Array(D);
    this.ps = new Float64Array(D);
    ({ vectors: this.B, values: this.Dsqrt } = this.decompose());
  }

  private decompose() {
    const { values, vectors } = symmetricEigen(this.C, this.D);
    return { vectors, values: Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 1e-300))) };
  }

  /** The λ candidates of the next generation: mean + σ·B·D·z. */
  ask(): Float64Array[] {
    const { D } = this;
    this.draws = Array.from({ length: this.lambda }, (_, k) => Float64Array.from({ length: D }, (_, d) => normal(this.seed, this.generation * this.lambda + k, d)));
    this.candidates = this.draws.map((z) => {
      const x = Float64Array.from(this.mean);
      for (let i = 0; i < D; i++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += this.B[i * D + j] * this.Dsqrt[j] * z[j];
        x[i] += this.sigma * s;
      }
      return x;
    });
    return this.candidates;
  }

  /** Updates the distribution from the costs of the candidates `ask` gave (non-finite costs rank last). */
  tell(costs: ArrayLike<number>): void {
    const { D, mu } = this;
    const order = Array.from({ length: this.lambda }, (_, k) => k).sort((a, b) => (Number.isFinite(costs[a]) ? costs[a] : Infinity) - (Number.isFinite(costs[b]) ? costs[b] : Infinity));
    const old = Float64Array.from(this.mean);
    this.mean.fill(0);
    for (let r = 0; r < mu; r++) for (let d = 0; d < D; d++) this.mean[d] += this.weights[r] * this.candidates[order[r]][d];
    // y = (m' − m)/σ; C^{-1/2}·y = B·z_w with z_w the weighted draws
    const y = Float64Array.from({ length: D }, (_, d) => (this.mean[d] - old[d]) / this.sigma);
    const zw = new Float64Array(D);
    for (let r = 0; r < mu; r++) for (let d = 0; d < D; d++) zw[d] += this.weights[r] * this.draws[order[r]][d];
    const invSqrtY = new Float64Array(D);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) invSqrtY[i] += this.B[i * D + j] * zw[j];
    const csn = Math.sqrt(this.cs * (2 - this.cs) * this.muEff);
    for (let d = 0; d < D; d++) this.ps[d] = (1 - this.cs) * this.ps[d] + csn * invSqrtY[d];
    const psNorm = Math.hypot(...this.ps);
    this.generation++;
    const hsig = psNorm / Math.sqrt(1 - (1 - this.cs) ** (2 * this.generation)) / this.chiN < 1.4 + 2 / (D + 1) ? 1 : 0;
    const ccn = Math.sqrt(this.cc * (2 - this.cc) * this.muEff);
    for (let d = 0; d < D; d++) this.pc[d] = (1 - this.cc) * this.pc[d] + hsig * ccn * y[d];
    const steps = Array.from({ length: mu }, (_, r) => Float64Array.from({ length: D }, (_, d) => (this.candidates[order[r]][d] - old[d]) / this.sigma));
    const keep = 1 - this.c1 - this.cmu + (1 - hsig) * this.c1 * this.cc * (2 - this.cc);
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        let rankMu = 0;
        for (let r = 0; r < mu; r++) rankMu += this.weights[r] * steps[r][i] * steps[r][j];
        this.C[i * D + j] = keep * this.C[i * D + j] + this.c1 * this.pc[i] * this.pc[j] + this.cmu * rankMu;
      }
    }
    this.sigma *= Math.exp((this.cs / this.damps) * (psNorm / this.chiN - 1));
    ({ vectors: this.B, values: this.Dsqrt } = this.decompose());
  }
}
