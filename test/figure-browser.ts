/**
 * Renders SVG figures in headless Chromium for the figure tests: each SVG is put in a page at its own
 * size, screenshotted, and decoded to pixels; the page also gives the screen boxes of the figure's
 * text (tick labels, titles), so a test can read the axes as a person would and check that marks
 * are drawn where the data puts them on those axes.
 */
import type { Browser, Page } from 'puppeteer-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_OUTPUT, browserAvailable, launchBrowser } from '../demos/testing/browser.ts';
import { decodePng, type Image } from '../demos/testing/png.ts';

export interface TextBox {
  text: string;
  /** centre in image pixels */
  x: number;
  y: number;
  width: number;
  height: number;
  /** rotation in degrees of the text's element (axis titles on the left: -90) */
  angle: number;
}

export interface RenderedFigure {
  image: Image;
  texts: TextBox[];
}

export class FigureBrowser {
  private constructor(private browser: Browser, private page: Page) {}

  /** null where there is no Chromium (and CI is not set: browserAvailable throws in CI). */
  static async open(): Promise<FigureBrowser | null> {
    if (!browserAvailable()) return null;
    const browser = await launchBrowser();
    const page = await browser.newPage();
    return new FigureBrowser(browser, page);
  }

  /** Draws `svg` at device scale 1 and returns its pixels and text boxes; with `name`, keeps test-output/figures/<name>.png (and .svg). */
  async render(svg: string, name?: string): Promise<RenderedFigure> {
    const [, w, h] = /width="([\d.]+)" height="([\d.]+)"/.exec(svg)!.map(Number);
    await this.page.setViewport({ width: Math.ceil(w), height: Math.ceil(h), deviceScaleFactor: 1 });
    await this.page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`, { waitUntil: 'load' });
    const texts = await this.page.evaluate(() => Array.from(document.querySelectorAll('svg text')).map((t) => {
      const r = t.getBoundingClientRect();
      const m = /rotate\(([-\d.]+)/.exec(t.getAttribute('transform') ?? '');
      return { text: t.textContent ?? '', x: r.left + r.width / 2, y: r.top + r.height / 2, width: r.width, height: r.height, angle: m ? Number(m[1]) : 0 };
    }));
    const svgEl = await this.page.$('svg');
    const shot = await svgEl!.screenshot({ type: 'png' });
    if (name) {
      const dir = join(TEST_OUTPUT, 'figures');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}.png`), shot);
      writeFileSync(join(dir, `${name}.svg`), svg);
      writeFileSync(join(dir, `${name}.texts.json`), JSON.stringify(texts, null, 1));
    }
    return { image: decodePng(new Uint8Array(shot)), texts };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** RGB of pixel (x, y). */
export function pixel(img: Image, x: number, y: number): [number, number, number] {
  const k = 4 * (Math.round(y) * img.width + Math.round(x));
  return [img.data[k], img.data[k + 1], img.data[k + 2]];
}

/** Colour distance (largest channel difference). */
export const colourDistance = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((v, k) => Math.abs(v - b[k])));

/** '#rrggbb' as RGB. */
export const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)) as [number, number, number];

/** Pixels within `tolerance` of `colour` in the box [x0, x1) × [y0, y1) (whole image by default). */
export function countColour(img: Image, colour: readonly number[], tolerance = 30, box = [0, 0, img.width, img.height]): number {
  let n = 0;
  for (let y = Math.max(0, box[1]); y < Math.min(img.height, box[3]); y++) {
    for (let x = Math.max(0, box[0]); x < Math.min(img.width, box[2]); x++) if (colourDistance(pixel(img, x, y), colour) <= tolerance) n++;
  }
  return n;
}

/** Whether some pixel within `radius` of (x, y) is within `tolerance` of `colour`. */
export function colourNear(img: Image, x: number, y: number, colour: readonly number[], radius = 3, tolerance = 40): boolean {
  return countColour(img, colour, tolerance, [Math.round(x - radius), Math.round(y - radius), Math.round(x + radius + 1), Math.round(y + radius + 1)]) > 0;
}

/**
 * An axis read off the figure: the tick labels that parse as numbers ('1,000', '−20', '40%'), in
 * `region`, fitted by least squares to a map from value to pixel (linear, or linear in log10 for a
 * log axis). The first and last labels are left out when there are four or more: Vega-Lite aligns
 * the end labels of an x axis inside the plot (labelFlush) instead of centring them on their ticks.
 */
export function readAxis(texts: TextBox[], orientation: 'x' | 'y', region: (t: TextBox) => boolean, log = false): { toPixel: (v: number) => number; ticks: { value: number; pixel: number }[] } {
  const parse = (s: string) => (s.endsWith('%') ? Number(s.slice(0, -1).replace(/[−–]/g, '-').replace(/,/g, '')) / 100 : Number(s.replace(/[−–]/g, '-').replace(/,/g, '')));
  let ticks = texts.filter((t) => t.angle === 0 && region(t) && /^[−–-]?[\d.,]+(e[−-]?\d+)?%?$/.test(t.text.trim()))
    .map((t) => ({ value: parse(t.text.trim()), pixel: orientation === 'x' ? t.x : t.y }))
    .filter((t) => Number.isFinite(t.value) && (!log || t.value > 0))
    .sort((a, b) => a.value - b.value);
  if (ticks.length >= 4) ticks = ticks.slice(1, -1);
  if (ticks.length < 2) throw new Error(`fewer than two numeric tick labels on the ${orientation} axis: ${texts.map((t) => t.text).join(' | ')}`);
  const f = (v: number) => (log ? Math.log10(v) : v);
  const n = ticks.length, mx = ticks.reduce((a, t) => a + f(t.value), 0) / n, my = ticks.reduce((a, t) => a + t.pixel, 0) / n;
  const slope = ticks.reduce((a, t) => a + (f(t.value) - mx) * (t.pixel - my), 0) / ticks.reduce((a, t) => a + (f(t.value) - mx) ** 2, 0);
  return { toPixel: (v: number) => my + (f(v) - mx) * slope, ticks };
}
