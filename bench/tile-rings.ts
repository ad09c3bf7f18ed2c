/**
 * Maxima rings of `size` instances made by cycling through those of `rings` (instance k of the result
 * is instance k mod n of the source), in one group, laid out as an engine lays out a group (layout.ts
 * maximaEntry). Host benchmarks classify such tiles: host cost per instance depends on how many
 * maxima it has and where they sit in memory, not on which instance it is.
 */
import { maximaEntry } from '../src/compile/layout.ts';
import type { MaximaRings } from '../src/engine/ensemble.ts';

export function tileRings(rings: MaximaRings, size: number): MaximaRings {
  const M = rings.capacity, n = rings.count.length;
  // in shared memory where the engine's was (the GPU engine's readback): encoder workers then share it
  const shared = rings.groups.every((g) => (g.block as Float32Array).buffer instanceof SharedArrayBuffer);
  const bytes = 4 * 2 * M * size;
  const block = new Float32Array(shared ? new SharedArrayBuffer(bytes) as unknown as ArrayBuffer : new ArrayBuffer(bytes));
  for (let i = 0; i < size; i++) {
    const k = i % n, g = rings.groups.find((x) => k >= x.start && k < x.start + x.n)!;
    const from = maximaEntry(k - g.start, 0, M), into = maximaEntry(i, 0, M);
    for (let e = 0; e < 2 * M; e++) block[into + e] = (g.block as ArrayLike<number>)[from + e];
  }
  const cycle = (a: Float64Array) => Float64Array.from({ length: size }, (_, i) => a[i % n]);
  return { name: rings.name, capacity: M, count: cycle(rings.count), spikeCount: cycle(rings.spikeCount), groups: [{ start: 0, n: size, block }] };
}
