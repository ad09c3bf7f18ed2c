/**
 * Canvas 2D plots for data that is already in JavaScript (results of whole runs: CPU-engine details,
 * landscape grids). Live simulation data is drawn by WebGPU instead (ensemble/render.ts).
 */

export const COLORS = { text: '#d7dce5', muted: '#8a93a3', grid: '#2a303b', accent: '#4ee6a0', warn: '#f8961e', blue: '#4cc9f0', pink: '#ff5d73', violet: '#c77dff' };

/** Sizes the drawing buffer to the element (device pixels) and returns a context in CSS pixels. */
export function prepare(canvas: HTMLCanvasElement): { g: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const w = Math.max(1, canvas.clientWidth), h = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.fillStyle = '#0e1014';
  g.fillRect(0, 0, w, h);
  g.font = '11px ui-monospace, Menlo, Consolas, monospace';
  return { g, w, h };
}

export function niceNumber(x: number): string {
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-2) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
}

export interface Series {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color: string;
  label?: string;
}

/** Line plot with a frame, y ticks at the extremes and an optional legend. */
export function linePlot(canvas: HTMLCanvasElement, series: Series[], opts: { xLabel?: string; yLabel?: string; yRange?: [number, number] } = {}): void {
  const { g, w, h } = prepare(canvas);
  const m = { l: 46, r: 8, t: 8, b: opts.xLabel ? 22 : 10 };
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series) {
    for (let k = 0; k < s.x.length; k++) {
      x0 = Math.min(x0, s.x[k]); x1 = Math.max(x1, s.x[k]);
      if (Number.isFinite(s.y[k])) { y0 = Math.min(y0, s.y[k]); y1 = Math.max(y1, s.y[k]); }
    }
  }
  if (opts.yRange) [y0, y1] = opts.yRange;
  if (!Number.isFinite(x0) || !Number.isFinite(y0)) return;
  if (y1 - y0 < 1e-12 * Math.max(1, Math.abs(y1))) { y0 -= 1; y1 += 1; }
  const pad = 0.05 * (y1 - y0);
  y0 -= pad; y1 += pad;
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (w - m.l - m.r);
  const Y = (y: number) => h - m.b - ((y - y0) / (y1 - y0)) * (h - m.t - m.b);
  g.strokeStyle = COLORS.grid;
  g.strokeRect(m.l, m.t, w - m.l - m.r, h - m.t - m.b);
  g.fillStyle = COLORS.muted;
  g.textAlign = 'right';
  g.fillText(niceNumber(y1 - pad), m.l - 4, m.t + 10);
  g.fillText(niceNumber(y0 + pad), m.l - 4, h - m.b - 2);
  if (y0 < 0 && y1 > 0) {
    g.strokeStyle = COLORS.grid;
    g.beginPath(); g.moveTo(m.l, Y(0)); g.lineTo(w - m.r, Y(0)); g.stroke();
  }
  if (opts.xLabel) {
    g.textAlign = 'left';
    g.fillText(niceNumber(x0), m.l, h - 6);
    g.textAlign = 'right';
    g.fillText(`${niceNumber(x1)} ${opts.xLabel}`, w - m.r, h - 6);
  }
  if (opts.yLabel) {
    g.save(); g.translate(11, (h - m.b + m.t) / 2); g.rotate(-Math.PI / 2); g.textAlign = 'center'; g.fillText(opts.yLabel, 0, 0); g.restore();
  }
  g.lineWidth = 1.2;
  for (const s of series) {
    g.strokeStyle = s.color;
    g.beginPath();
    let pen = false;
    for (let k = 0; k < s.x.length; k++) {
      if (!Number.isFinite(s.y[k])) { pen = false; continue; }
      const px = X(s.x[k]), py = Y(Math.min(y1, Math.max(y0, s.y[k])));
      if (pen) g.lineTo(px, py); else g.moveTo(px, py);
      pen = true;
    }
    g.stroke();
  }
  const labelled = series.filter((s) => s.label);
  g.textAlign = 'left';
  labelled.forEach((s, k) => {
    g.fillStyle = s.color;
    g.fillText(s.label!, m.l + 6, m.t + 12 + 12 * k);
  });
}

/** Horizontal bars around zero, one per label. */
export function barChart(canvas: HTMLCanvasElement, labels: string[], values: number[], opts: { title?: string } = {}): void {
  const { g, w, h } = prepare(canvas);
  const m = { l: 62, r: 60, t: opts.title ? 18 : 6, b: 6 };
  const maxAbs = Math.max(1e-30, ...values.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  const rowH = (h - m.t - m.b) / Math.max(1, labels.length);
  const zero = m.l + (w - m.l - m.r) / 2;
  const half = (w - m.l - m.r) / 2;
  if (opts.title) {
    g.fillStyle = COLORS.muted;
    g.textAlign = 'left';
    g.fillText(opts.title, 4, 12);
  }
  g.strokeStyle = COLORS.grid;
  g.beginPath(); g.moveTo(zero, m.t); g.lineTo(zero, h - m.b); g.stroke();
  labels.forEach((label, k) => {
    const v = values[k];
    const y = m.t + k * rowH;
    g.fillStyle = COLORS.muted;
    g.textAlign = 'right';
    g.fillText(label, m.l - 6, y + rowH / 2 + 4);
    if (!Number.isFinite(v)) return;
    const len = (v / maxAbs) * half;
    g.fillStyle = v >= 0 ? COLORS.accent : COLORS.pink;
    g.fillRect(Math.min(zero, zero + len), y + rowH * 0.18, Math.max(1, Math.abs(len)), rowH * 0.64);
    g.fillStyle = COLORS.text;
    g.textAlign = 'left';
    g.fillText(niceNumber(v), w - m.r + 4, y + rowH / 2 + 4);
  });
}
