/**
 * The figure renderer (src/io/plot/figure.ts): Vega-Lite specs become SVG documents without a
 * browser, with the shared look, and never load data from outside the spec.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSvg, writeFigure, type TopLevelSpec } from '../src/io/plot/figure.ts';
import { landscapeSpec } from '../src/io/plot/landscape-figure.ts';
import { sweepSpec } from '../src/io/plot/sweep-figure.ts';

const line: TopLevelSpec = {
  width: 300, height: 200,
  data: { values: [{ t: 0, v: -60 }, { t: 50, v: 20 }, { t: 100, v: -70 }] },
  mark: 'line',
  encoding: { x: { field: 't', type: 'quantitative', title: 'time (ms)' }, y: { field: 'v', type: 'quantitative', title: 'V (mV)' } },
};

describe('figure', () => {
  it('renders a Vega-Lite spec as a standalone SVG document with axis titles and a white background', async () => {
    const svg = await renderSvg(line);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('time (ms)');
    expect(svg).toContain('V (mV)');
    expect(svg).toMatch(/<rect width="\d+" height="\d+" fill="white"\/>/);
    // one path for the line, through three points: M + 2 L
    const path = /class="mark-line[^"]*"[^>]*><path[^>]*d="([^"]+)"/.exec(svg);
    expect(path).not.toBeNull();
    expect(path![1].match(/[ML]/g)).toHaveLength(3);
  });

  it('leaves the caller\'s spec as it was', async () => {
    const copy = structuredClone(line);
    await renderSvg(line);
    expect(line).toStrictEqual(copy);
  });

  it('scales the drawing and lets a spec override the shared config', async () => {
    const one = await renderSvg(line), two = await renderSvg(line, { scale: 2 });
    const size = (s: string) => /width="(\d+)" height="(\d+)"/.exec(s)!.slice(1).map(Number);
    expect(size(two)[0]).toBe(2 * size(one)[0]);
    expect(await renderSvg({ ...line, config: { background: '#abcdef' } } as TopLevelSpec)).toContain('fill="#abcdef"');
  });

  it('refuses specs that load data from a file or URL', async () => {
    await expect(renderSvg({ data: { url: '/etc/passwd', format: { type: 'csv' } }, mark: 'point', encoding: { x: { field: 'a', type: 'nominal' } } }))
      .rejects.toThrow(/inline.*\/etc\/passwd/);
    await expect(renderSvg({ data: { url: 'https://example.com/x.json' }, mark: 'point' } as TopLevelSpec)).rejects.toThrow(/inline/);
  });

  it('writes the SVG and, when asked, the spec beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'figure-'));
    await writeFigure(join(dir, 'a.svg'), line, { specPath: join(dir, 'a.vl.json') });
    expect(readFileSync(join(dir, 'a.svg'), 'utf8')).toContain('time (ms)');
    expect(JSON.parse(readFileSync(join(dir, 'a.vl.json'), 'utf8'))).toEqual(line);
  });

  it('labels axes with the model\'s units, never a guessed wrong one', async () => {
    const axis = (param: string, log: boolean) => ({ lane: { key: param, param, log }, values: Float64Array.of(10, 20), coords: Float64Array.of(10, 20) });
    const base = { x: axis('celsius', false), y: axis('gKd', false), cost: Float64Array.of(1, 2, 3, 4), gradient: [new Float64Array(4), new Float64Array(4)] as [Float64Array, Float64Array] };
    const svg = await renderSvg(landscapeSpec({ ...base, problem: { setup: { model: { params: { celsius: { unit: '°C' }, gKd: { unit: 'mS/cm²' } } } } } }));
    expect(svg).toContain('celsius (°C)');
    expect(svg).toContain('gKd (mS/cm²)');
    // without the model: conductances by their names, anything else bare
    const bare = await renderSvg(landscapeSpec(base));
    expect(bare).toContain('gKd (mS/cm²)');
    expect(bare).toMatch(/>celsius</);
  });

  it('draws a network sweep\'s periods (periodMs of its periodic networks)', async () => {
    const n = 6;
    const svg = await renderSvg(sweepSpec([
      { name: 'index', type: 'INT32', data: Int32Array.from({ length: n }, (_, i) => i) },
      { name: 'LP.gA', type: 'DOUBLE', data: Float64Array.of(1, 2, 3, 4, 5, 6) },
      { name: 'ABPD_LP_Ns', type: 'DOUBLE', data: Float64Array.of(1, 3, 2, 5, 4, 6) },
      { name: 'class', type: 'STRING', data: ['pyloric', 'pyloric', 'periodic', 'non-periodic', 'pyloric-like', 'diverged'] },
      // as a table reads back: a network without a period has null, not NaN (null was once counted as 0 ms)
      { name: 'periodMs', type: 'DOUBLE', data: [900, 1000, 1200, null, 950, null] },
    ]));
    expect(svg).toContain('periods of 4 periodic networks');
    expect(svg).toContain('network period (ms)');
    expect(svg).toContain('LP.gA (mS/cm²)');
    expect(svg).toContain('ABPD_LP_Ns (nS)');
  });
});
