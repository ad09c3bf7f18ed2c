/**
 * Amplitude scales for the ensemble explorer's WebGPU views, in HTML beside their canvases: tick
 * labels on the V and [Ca] traces at the heights the shaders draw those values (render.ts: each lane
 * keeps 3 % margins and a span one device pixel short of 94 %, so value v sits at
 * 0.03 + (1 − (v − vMin)/(vMax − vMin))·(0.94 − 1/lane height in device pixels) of the lane), and
 * a colour bar for the population image drawn with the shaders' own inferno polynomial.
 */

/** Fraction of a lane's height (from its top) at which value v is drawn; `laneDevicePx`: the lane's height in device pixels. */
export function laneFraction(v: number, vMin: number, vMax: number, laneDevicePx = Infinity): number {
  return 0.03 + (1 - Math.min(1, Math.max(0, (v - vMin) / (vMax - vMin)))) * (0.94 - 1 / laneDevicePx);
}

/** The padding the autoscale shader adds around the extremes of a trace (render.ts, lines). */
export function autoscaleRange(lo: number, hi: number): [number, number] {
  const pad = Math.max(0.06 * (hi - lo), 1e-6 * Math.abs(hi) + 1e-12);
  return [lo - pad, hi + pad];
}

/** Round tick values covering [lo, hi]: about `count` of them at 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (v: number) => `${v < 0 ? '−' : ''}${Number(Math.abs(v).toPrecision(4))}`;

/**
 * Writes tick labels into `axis` (an element beside the canvas, as tall as it): each at the height
 * where lane `lane` of `lanes` draws it; `canvasDevicePx`: the canvas's drawing-buffer height.
 */
export function renderYAxis(axis: HTMLElement, ticks: number[], vMin: number, vMax: number, unit: string, canvasDevicePx: number, lane = 0, lanes = 1): void {
  axis.innerHTML = ticks.map((v) => {
    const top = (100 * (lane + laneFraction(v, vMin, vMax, canvasDevicePx / lanes))) / lanes;
    return `<span class="tick" data-value="${v}" style="top:${top.toFixed(3)}%">${label(v)}</span>`;
  }).join('') + `<span class="unit">${unit}</span>`;
}

/** The inferno polynomial of render.ts (same coefficients), as 0-255 RGB. */
export function inferno(t0: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, t0));
  const c = [
    [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
    [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
    [11.60249308247187, -3.972853965665698, -15.9423941062914],
    [-41.70399613139459, 17.43639888205313, 44.35414519872813],
    [77.162935699427, -33.40235894210092, -81.80730925738993],
    [-71.31942824499214, 32.62606426397723, 73.20951985803202],
    [25.13112622477341, -12.24266895238567, -23.07032500287172],
  ];
  return [0, 1, 2].map((k) => {
    let v = c[6][k];
    for (let j = 5; j >= 0; j--) v = c[j][k] + t * v;
    return Math.round(255 * Math.min(1, Math.max(0, v)));
  }) as [number, number, number];
}

/** Draws a horizontal colour bar from vMin (left) to vMax (right) with labelled ticks below it. */
export function renderColorBar(canvas: HTMLCanvasElement, ticksEl: HTMLElement, vMin: number, vMax: number, unit: string): void {
  const width = Math.max(2, Math.round(canvas.clientWidth || 300));
  canvas.width = width;
  canvas.height = 1;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, 1);
  for (let x = 0; x < width; x++) {
    const [r, g, b] = inferno((x + 0.5) / width);
    img.data.set([r, g, b, 255], 4 * x);
  }
  ctx.putImageData(img, 0, 0);
  ticksEl.innerHTML = niceTicks(vMin, vMax, 6).map((v) => `<span class="tick" data-value="${v}" style="left:${((100 * (v - vMin)) / (vMax - vMin)).toFixed(3)}%">${label(v)}</span>`).join('')
    + `<span class="unit">${unit}</span>`;
}
