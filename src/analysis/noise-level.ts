/**
 * The standard deviation of white measurement noise in a finely sampled recording, from the data alone.
 * The second difference x[k+1] − 2x[k] + x[k−1] of white noise of variance σ² has variance 6σ², while
 * that of a smooth signal is x''·dt², negligible between spikes at the steps a simulator records; its
 * median absolute value (robust to the spikes, which are a minority of samples) is 0.6745·√6·σ for
 * Gaussian noise.
 */

/** Estimated noise standard deviation of `values` (their unit; mV for a voltage), 0 for fewer than 3 samples. */
export function estimateNoiseStd(values: ArrayLike<number>): number {
  const n = values.length - 2;
  if (n < 1) return 0;
  const second = new Float64Array(n);
  for (let k = 0; k < n; k++) second[k] = Math.abs(values[k + 2] - 2 * values[k + 1] + values[k]);
  second.sort();
  const median = n % 2 ? second[(n - 1) / 2] : (second[n / 2 - 1] + second[n / 2]) / 2;
  return median / (0.6744897501960817 * Math.sqrt(6));
}
