/** Small DOM helpers shared by the demo pages. */
import { backendLabel, type Backend } from './backend.ts';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

/** Number with a sensible number of digits for a status bar. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(Math.max(0, digits - 1));
  return Number(x.toPrecision(digits)).toString();
}

export function pill(label: string, value: string, cls = ''): string {
  return `<span class="pill ${cls}"><b>${label}</b>${value}</span>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The backend pills: which path and what runs it. */
export function backendPills(b: Backend): string {
  return pill('path', escapeHtml(backendLabel(b)), `backend ${b.kind === 'webgpu' ? '' : 'fallback'}`) + pill('adapter', escapeHtml(b.adapter));
}

export function notice(container: HTMLElement, html: string, kind: 'warn' | 'error' = 'warn'): HTMLElement {
  const div = document.createElement('div');
  div.className = `notice ${kind === 'error' ? 'error' : ''}`;
  div.innerHTML = html;
  container.prepend(div);
  return div;
}

export function urlParam(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}

export function urlNumber(name: string, fallback: number): number {
  const v = urlParam(name);
  const x = v === null ? NaN : Number(v);
  return Number.isFinite(x) ? x : fallback;
}

/** Fills a <select> with options and selects `value`. */
export function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[], value: string): void {
  select.innerHTML = options.map((o) => `<option value="${escapeHtml(o.value)}">${escapeHtml(o.label)}</option>`).join('');
  select.value = value;
}
