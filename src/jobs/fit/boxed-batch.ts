/** What the fit's optimisers share: many independent starts in D dimensions, each kept inside one box. */
export abstract class BoxedBatch {
  constructor(
    readonly n: number,
    readonly D: number,
    /** box bounds per dimension; steps are projected onto [lower, upper] */
    readonly lower: ArrayLike<number> = new Float64Array(D).fill(-Infinity),
    readonly upper: ArrayLike<number> = new Float64Array(D).fill(Infinity),
  ) {}

  /** `value` projected onto the box's interval in dimension d */
  protected project(d: number, value: number): number {
    return Math.min(this.upper[d], Math.max(this.lower[d], value));
  }
}
