/**
 * Small SVG text helpers shared by the plot writers: escaping, number formatting and axes drawn
 * from a d3 scale (its ticks and tick format), so every plot labels its axes the same way.
 */

/** Escapes text for SVG content and attributes. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate rounded to 0.01 px (keeps files small). */
export const px = (v: number): string => String(Math.round(v * 100) / 100);

/** A number for a label: 3 significant digits, no trailing zeros. */
export function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** The part of a d3 scale the axes need. */
export interface AxisScale {
  (value: number): number;
  ticks(count?: number): number[];
}

/** A horizontal axis at pixel row y, with ticks and a title below it. */
export function bottomAxis(scale: AxisScale, y: number, x0: number, x1: number, title: string, ticks = 6): string {
  const parts = [`<line x1="${px(x0)}" y1="${px(y)}" x2="${px(x1)}" y2="${px(y)}" stroke="#333"/>`];
  for (const t of scale.ticks(ticks)) {
    const x = scale(t);
    if (!(x >= x0 - 0.5 && x <= x1 + 0.5)) continue;
    parts.push(`<line x1="${px(x)}" y1="${px(y)}" x2="${px(x)}" y2="${px(y + 5)}" stroke="#333"/>`);
    parts.push(`<text x="${px(x)}" y="${px(y + 18)}" text-anchor="middle">${esc(label(t))}</text>`);
  }
  parts.push(`<text x="${px((x0 + x1) / 2)}" y="${px(y + 38)}" text-anchor="middle">${esc(title)}</text>`);
  return parts.join('\n');
}

/** A vertical axis at pixel column x, with ticks and a rotated title to its left. */
export function leftAxis(scale: AxisScale, x: number, y0: number, y1: number, title: string, ticks = 6): string {
  const parts = [`<line x1="${px(x)}" y1="${px(y0)}" x2="${px(x)}" y2="${px(y1)}" stroke="#333"/>`];
  const [lo, hi] = [Math.min(y0, y1), Math.max(y0, y1)];
  for (const t of scale.ticks(ticks)) {
    const y = scale(t);
    if (!(y >= lo - 0.5 && y <= hi + 0.5)) continue;
    parts.push(`<line x1="${px(x - 5)}" y1="${px(y)}" x2="${px(x)}" y2="${px(y)}" stroke="#333"/>`);
    parts.push(`<text x="${px(x - 8)}" y="${px(y + 4)}" text-anchor="end">${esc(label(t))}</text>`);
  }
  const cy = (y0 + y1) / 2;
  parts.push(`<text transform="translate(${px(x - 52)},${px(cy)}) rotate(-90)" text-anchor="middle">${esc(title)}</text>`);
  return parts.join('\n');
}

/** Wraps plot content in an SVG document with a white background and a default font. */
export function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
