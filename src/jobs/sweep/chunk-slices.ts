/**
 * A sweep chunk's data cut into consecutive row ranges, each a chunk of its own (ChunkData), so
 * several threads can classify and encode one chunk: every row depends only on its own model's
 * data, so the slices' rows, in order, are the chunk's rows.
 */
import { maximaEntry } from '../../compile/layout.ts';
import type { MaximaRings } from '../../engine/ensemble.ts';
import type { ChunkData, IndexRange } from './rows.ts';

/** Rows [from, to) of a chunk (offsets within it) as a chunk of their own; arrays are copied. */
export function sliceChunk(data: ChunkData, from: number, to: number): ChunkData {
  const n = data.range.end - data.range.start;
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= n)) throw new RangeError(`sliceChunk: rows [${from}, ${to}) of a ${n}-row chunk`);
  const cut = <T extends Float64Array | Int32Array>(a: T): T => a.slice(from, to) as T;
  return {
    ...data,
    range: { start: data.range.start + from, end: data.range.start + to },
    params: data.params.map((p) => ({ name: p.name, values: cut(p.values) })),
    ...(data.gridIndex ? { gridIndex: cut(data.gridIndex) } : {}),
    observed: data.observed.map((o) => ({ ...o, mean: cut(o.mean), min: cut(o.min), max: cut(o.max), meanTangent: o.meanTangent.map(cut) })),
    maxima: data.maxima.map((m) => sliceRings(m, from, to)),
    divergence: { ...data.divergence, state: cut(data.divergence.state), timeMs: cut(data.divergence.timeMs) },
    // traces are written by whoever holds the whole chunk
    traces: [],
    ...(data.finals ? { finals: data.finals.map((f) => ({ name: f.name, values: cut(f.values) })) } : {}),
  };
}

/**
 * The rings of rows [from, to). Blocks in shared memory (the GPU engine's) are not copied: the
 * slice keeps them, its groups starting `from` rows earlier (a slice's row i is the chunk's row
 * from + i). Others are copied into one group: a row's 2·capacity entries are contiguous within its
 * group (instance-major, layout.ts maximaEntry), so each group's rows in the slice are one run to copy.
 */
function sliceRings(rings: MaximaRings, from: number, to: number): MaximaRings {
  if (typeof SharedArrayBuffer === 'function' && rings.groups.every((g) => ArrayBuffer.isView(g.block) && g.block.buffer instanceof SharedArrayBuffer)) {
    return {
      name: rings.name, capacity: rings.capacity, count: rings.count.slice(from, to), spikeCount: rings.spikeCount.slice(from, to),
      groups: rings.groups.filter((g) => g.start < to && g.start + g.n > from).map((g) => ({ start: g.start - from, n: g.n, block: g.block })),
    };
  }
  const width = to - from, M = rings.capacity;
  // the engine's own precision: the CPU engine's f64 maxima must not be rounded to f32
  const block = rings.groups.every((g) => g.block instanceof Float32Array) ? new Float32Array(2 * M * width) : new Float64Array(2 * M * width);
  for (const g of rings.groups) {
    const a = Math.max(from, g.start), b = Math.min(to, g.start + g.n);
    if (a >= b) continue;
    const src = g.block;
    const at = maximaEntry(a - g.start, 0, M), end = maximaEntry(b - g.start, 0, M), into = maximaEntry(a - from, 0, M);
    if (src instanceof Float32Array || src instanceof Float64Array) block.set(src.subarray(at, end), into);
    else for (let k = 0; k < end - at; k++) block[into + k] = src[at + k];
  }
  return { name: rings.name, capacity: rings.capacity, count: rings.count.slice(from, to), spikeCount: rings.spikeCount.slice(from, to), groups: [{ start: 0, n: width, block }] };
}

/** A chunk's rows cut into at most `parts` consecutive ranges of nearly equal size (offsets within it). */
export function sliceBounds(rows: number, parts: number): IndexRange[] {
  const k = Math.max(1, Math.min(parts, rows));
  return Array.from({ length: k }, (_, j) => ({ start: Math.floor((j * rows) / k), end: Math.floor(((j + 1) * rows) / k) }));
}
