/**
 * Figures from Vega-Lite specifications, rendered to SVG without a browser: vega-lite compiles the
 * spec to a Vega specification and a headless vega View (renderer 'none') draws it as SVG text, the
 * same under Deno, Node and in a browser. Every plot ionsweep writes goes through here, so all share
 * one look (fonts, sizes, white background) and one way to reach disk.
 *
 * Specs must carry their data inline (`data: { values }` or named datasets): the loader refuses
 * every URL and file, so rendering never reads from disk or the network.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../atomic-write.ts';

export type { TopLevelSpec } from 'vega-lite';

/** The look shared by every figure (a spec's own `config` overrides it, key by key). */
export const figureConfig = {
  background: 'white',
  font: 'sans-serif',
  padding: 8,
  view: { stroke: '#888' },
  // no ARIA description per data mark: a scatter of thousands of dots would carry one each (3.5 MB
  // for a 1,680-model sweep); axes, legends and titles keep theirs
  mark: { aria: false },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', tickCount: 6, grid: false, ticks: true, domainColor: '#333', tickColor: '#333' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, fontWeight: 'normal', anchor: 'middle' },
} as const;

/** A loader that refuses to load anything: figures are drawn from inline data only. */
const inlineOnly: vega.Loader = {
  ...vega.loader(),
  load: (uri: string) => Promise.reject(new Error(`figure data must be inline; the spec asks to load '${uri}'`)),
  sanitize: (uri: string) => Promise.reject(new Error(`figure data must be inline; the spec asks to load '${uri}'`)),
  http: () => Promise.reject(new Error('figure data must be inline')),
  file: () => Promise.reject(new Error('figure data must be inline')),
} as vega.Loader;

/** Throws if any data set of a compiled Vega spec is to be loaded from a URL or file. */
function refuseUrls(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(refuseUrls);
  if (!node || typeof node !== 'object') return;
  const data = (node as { data?: unknown }).data;
  if (Array.isArray(data)) {
    for (const d of data) {
      const url = (d as { url?: unknown })?.url;
      if (url !== undefined) throw new Error(`figure data must be inline; the spec asks to load ${JSON.stringify(url)}`);
    }
  }
  for (const value of Object.values(node)) if (value && typeof value === 'object') refuseUrls(value);
}

function withConfig(spec: TopLevelSpec): TopLevelSpec {
  const own = (spec as { config?: Record<string, unknown> }).config ?? {};
  const config: Record<string, unknown> = { ...figureConfig };
  for (const [key, value] of Object.entries(own)) {
    const base = config[key];
    config[key] = base && typeof base === 'object' && value && typeof value === 'object' && !Array.isArray(value) ? { ...base, ...value } : value;
  }
  // vega tags the data objects it ingests: render a copy, so the caller's spec stays as it was
  return structuredClone({ ...spec, config }) as TopLevelSpec;
}

/**
 * Renders a Vega-Lite spec as an SVG document (a string). `scale` multiplies the spec's own
 * width and height (pixels); default 1.
 */
export async function renderSvg(spec: TopLevelSpec, options: { scale?: number } = {}): Promise<string> {
  const vgSpec = compile(withConfig(spec)).spec;
  refuseUrls(vgSpec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', loader: inlineOnly, logLevel: vega.Error });
  try {
    await view.runAsync();
    const svg = await view.toSVG(options.scale ?? 1);
    return svg.endsWith('\n') ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}

/**
 * Renders a spec and writes it atomically as SVG to `path`. With `specPath`, the Vega-Lite spec
 * itself (data included) is written there as JSON, so a figure can be restyled in any Vega-Lite
 * editor without rerunning the simulation.
 */
export async function writeFigure(path: string, spec: TopLevelSpec, options: { specPath?: string; scale?: number } = {}): Promise<void> {
  const svg = await renderSvg(spec, { scale: options.scale });
  await writeFileAtomic(path, svg);
  if (options.specPath) await writeFileAtomic(options.specPath, `${JSON.stringify(spec)}\n`);
}
