/**
 * Reads the voltage-maxima rings of many instances one after another without allocating:
 * `maximaView` (engine/results.ts) gives each instance two new arrays, which for 3 cells × 8,192
 * networks a chunk is most of the classifier's garbage. Here an instance's kept maxima are copied,
 * oldest first, into two scratch arrays reused for every instance. The values are the same numbers
 * `maximaView` gives (f32 widened to f64).
 */
import { maximaEntry } from '../compile/layout.ts';
import type { MaximaRings } from '../engine/ensemble.ts';

export class MaximaScratchReader {
  readonly count: Float64Array;
  readonly spikeCount: Float64Array;
  private readonly capacity: number;
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private group: MaximaRings['groups'][number];

  constructor(private readonly rings: MaximaRings) {
    this.count = rings.count;
    this.spikeCount = rings.spikeCount;
    this.capacity = rings.capacity;
    this.times = new Float64Array(rings.capacity);
    this.values = new Float64Array(rings.capacity);
    this.group = rings.groups[0];
  }

  /**
   * Instance i's kept maxima, oldest first: times (ms) and values (mV). Views into scratch: valid
   * until the next call.
   */
  of(i: number): { timesMs: Float64Array; valuesMv: Float64Array } {
    let g = this.group;
    if (i < g.start || i >= g.start + g.n) {
      const found = this.rings.groups.find((x) => i >= x.start && i < x.start + x.n);
      if (!found) throw new RangeError(`instance ${i} is in no group of the maxima rings of ${this.rings.name}`);
      g = this.group = found;
    }
    const M = this.capacity, count = this.count[i];
    const kept = Math.min(count, M);
    // a wrapped ring's oldest kept maximum sits at slot count mod M
    const first = count > M ? count % M : 0;
    const block = g.block;
    const base = maximaEntry(i - g.start, 0, M);
    const times = this.times, values = this.values;
    for (let e = 0, slot = first; e < kept; e++) {
      times[e] = block[base + slot];
      values[e] = block[base + M + slot];
      if (++slot === M) slot = 0;
    }
    return { timesMs: times.subarray(0, kept), valuesMv: values.subarray(0, kept) };
  }
}
