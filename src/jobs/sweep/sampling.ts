/**
 * Sampling: model index → parameter values, as a pure function of (spec, index), so a sweep's rows
 * never depend on how it is chunked, sharded or resumed.
 *
 * - grid: mixed-radix digits of the grid index, the first parameter most significant (the Prinz 2003
 *   numbering of docs/models.md §7: model number n = grid index + 1 ↔ levels = digits of n − 1). With
 *   `subsample`, model index k runs grid point permute(k) of a seeded permutation of the grid: the
 *   first m indices are a uniform sample without replacement.
 * - random: independent uniforms from a counter-based hash of (seed, index, dimension).
 * - lhs: Latin hypercube; stratum = a keyed pseudo-random permutation of the index per dimension
 *   (a Feistel network with cycle walking), plus a hashed offset inside the stratum.
 * - sobol: Sobol' points (Joe & Kuo 2008 direction numbers, new-joe-kuo-6.21201) with a random
 *   digital shift from the seed; the index is used directly (Gray-code free, so any index is O(bits)).
 * Uniforms map to values linearly (uniform) or geometrically (logUniform), and to a network cell's
 * choice by equal parts of [0, 1).
 */
import type { Axis, ResolvedSweep } from './spec.ts';

// ---- counter-based hashing (32-bit, splitmix/murmur-style finalizer) ----

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function hash3(a: number, b: number, c: number): number {
  return mix32(mix32(mix32(a ^ 0x9e3779b9) ^ b) ^ Math.imul(c + 1, 0x85ebca6b));
}

/** A uniform in [0, 1) with 53 random bits, from (seed, index, dimension). */
export function hashUniform(seed: number, index: number, dim: number): number {
  const hi = hash3(seed, index, 2 * dim) >>> 5; // 27 bits
  const lo = hash3(seed ^ 0x5bd1e995, index, 2 * dim + 1) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** A keyed bijection of [0, n): a balanced Feistel network on the next power of 4, with cycle walking. */
export function permute(index: number, n: number, key: number): number {
  let bits = 2;
  while (1 << bits < n) bits += 2;
  const half = bits / 2, mask = (1 << half) - 1;
  let x = index;
  do {
    let left = x >>> half, right = x & mask;
    for (let round = 0; round < 4; round++) {
      const f = hash3(key, right, round) & mask;
      [left, right] = [right, left ^ f];
    }
    x = (left << half) | right;
  } while (x >= n);
  return x;
}

// ---- Sobol' (Joe & Kuo 2008, dimensions 2..21 of new-joe-kuo-6.21201: s, a, m_1..m_s) ----

const JOE_KUO: [number, number, number[]][] = [
  [1, 0, [1]], [2, 1, [1, 3]], [3, 1, [1, 3, 1]], [3, 2, [1, 1, 1]], [4, 1, [1, 1, 3, 3]], [4, 4, [1, 3, 5, 13]],
  [5, 2, [1, 1, 5, 5, 17]], [5, 4, [1, 1, 5, 5, 5]], [5, 7, [1, 1, 7, 11, 19]], [5, 11, [1, 1, 5, 1, 1]],
  [5, 13, [1, 1, 1, 3, 11]], [5, 14, [1, 3, 5, 5, 31]], [6, 1, [1, 3, 3, 9, 7, 49]], [6, 13, [1, 1, 1, 15, 21, 21]],
  [6, 16, [1, 3, 1, 13, 27, 49]], [6, 19, [1, 1, 1, 15, 7, 5]], [6, 22, [1, 3, 1, 15, 13, 25]],
  [6, 25, [1, 1, 5, 5, 19, 61]], [7, 1, [1, 3, 7, 11, 23, 15, 103]], [7, 4, [1, 3, 7, 13, 13, 15, 69]],
];
const SOBOL_BITS = 32;

/** Direction numbers v[dim][bit] (scaled to 32 bits) for dimensions 0..count−1. */
function sobolDirections(count: number): Uint32Array[] {
  const dirs: Uint32Array[] = [];
  for (let d = 0; d < count; d++) {
    const v = new Uint32Array(SOBOL_BITS);
    if (d === 0) {
      for (let k = 0; k < SOBOL_BITS; k++) v[k] = (1 << (31 - k)) >>> 0;
    } else {
      const [s, a, m] = JOE_KUO[d - 1];
      for (let k = 0; k < SOBOL_BITS; k++) {
        if (k < s) {
          v[k] = (m[k] << (31 - k)) >>> 0;
        } else {
          let value = (v[k - s] ^ (v[k - s] >>> s)) >>> 0;
          for (let j = 1; j < s; j++) if ((a >>> (s - 1 - j)) & 1) value = (value ^ v[k - j]) >>> 0;
          v[k] = value;
        }
      }
    }
    dirs.push(v);
  }
  return dirs;
}

/** The index-th Sobol' point's coordinate in one dimension (as 32-bit fraction), Gray-code order. */
function sobolCoordinate(index: number, v: Uint32Array): number {
  const gray = (index ^ (index >>> 1)) >>> 0;
  let x = 0;
  for (let k = 0; k < SOBOL_BITS && gray >>> k; k++) if ((gray >>> k) & 1) x = (x ^ v[k]) >>> 0;
  return x;
}

export interface Sampler {
  total: number;
  names: string[];
  /** grid sampling: the grid point (Prinz model number − 1) model `index` runs */
  gridIndexOf?: (index: number) => number;
  /** parameter values of model `index`, in `names` order */
  valuesOf(index: number, out?: Float64Array): Float64Array;
}

function fromUniform(axis: Axis, u: number): number {
  // a cell choice: each of its k choices with probability 1/k
  if (axis.kind === 'choice') return Math.min(axis.values!.length - 1, Math.floor(u * axis.values!.length));
  if (axis.kind === 'uniform') return axis.low! + u * (axis.high! - axis.low!);
  return Math.exp(Math.log(axis.low!) + u * (Math.log(axis.high!) - Math.log(axis.low!)));
}

/** The sampler of a resolved sweep. */
export function makeSampler(sweep: ResolvedSweep): Sampler {
  const { axes, total, spec } = sweep;
  const names = axes.map((a) => a.name);
  const D = axes.length;
  const seed = spec.seed;
  let unit: (index: number, d: number) => number;
  switch (spec.sampling) {
    case 'grid': {
      const radices = axes.map((a) => a.values!.length);
      const strides = radices.map((_, d) => radices.slice(d + 1).reduce((p, r) => p * r, 1));
      const gridSize = sweep.gridSize ?? total;
      const key = hash3(seed, 0x475249, 0);
      const gridIndexOf = spec.subsample === undefined ? (index: number) => index : (index: number) => permute(index, gridSize, key);
      return {
        total, names, gridIndexOf,
        valuesOf(index, out = new Float64Array(D)) {
          const g = gridIndexOf(index);
          for (let d = 0; d < D; d++) out[d] = axes[d].values![Math.floor(g / strides[d]) % radices[d]];
          return out;
        },
      };
    }
    case 'random':
      unit = (index, d) => hashUniform(seed, index, d);
      break;
    case 'lhs':
      unit = (index, d) => (permute(index, total, hash3(seed, 0x4c4853, d)) + hashUniform(seed, index, d)) / total;
      break;
    case 'sobol': {
      const dirs = sobolDirections(D);
      const shifts = axes.map((_, d) => hash3(seed, 0x534f42, d));
      unit = (index, d) => (((sobolCoordinate(index, dirs[d]) ^ shifts[d]) >>> 0) + 0.5) / 4294967296;
      break;
    }
  }
  return {
    total, names,
    valuesOf(index, out = new Float64Array(D)) {
      for (let d = 0; d < D; d++) out[d] = fromUniform(axes[d], unit(index, d));
      return out;
    },
  };
}
