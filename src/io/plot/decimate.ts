/**
 * Fewer points for a line that still looks the same: each of `buckets` equal slices of the samples
 * keeps its first, minimum, maximum and last sample (in time order), so every spike's peak and
 * trough survive however long the trace. A drawn line cannot show more than a few points per pixel.
 */

/** Indices of the samples to keep, in increasing order (all of them when there are few). */
export function decimateMinMax(values: ArrayLike<number>, buckets = 1200): number[] {
  const n = values.length;
  if (n <= 4 * buckets) return Array.from({ length: n }, (_, i) => i);
  const keep: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets), hi = Math.floor(((b + 1) * n) / buckets);
    let iMin = lo, iMax = lo;
    for (let i = lo; i < hi; i++) {
      const v = values[i];
      if (v < values[iMin]) iMin = i;
      if (v > values[iMax]) iMax = i;
    }
    for (const i of [...new Set([lo, iMin, iMax, hi - 1])].sort((a, b) => a - b)) keep.push(i);
  }
  return keep;
}
