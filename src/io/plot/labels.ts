/** Number formatting for labels drawn beside figures (legends, notes): 3 significant digits. */
export function numberLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/**
 * The unit of a parameter for an axis title: the model's own when given, else read off the library's
 * naming (g… conductance densities in mS/cm², …Ns in nS, …UAPerCm2, …Mv, …Ms, …UM), else none
 * rather than a wrong one.
 */
export function parameterUnit(name: string, params?: Record<string, { unit: string }>): string | undefined {
  const own = params && Object.hasOwn(params, name) ? params[name].unit : undefined;
  if (own !== undefined) return own && own !== '1' ? own : undefined;
  const base = name.slice(name.lastIndexOf('.') + 1);
  if (/^g[A-Z]/.test(base)) return 'mS/cm²';
  if (/Ns$/.test(base)) return 'nS';
  if (/UAPerCm2$/.test(base)) return 'µA/cm²';
  if (/Mv$/.test(base)) return 'mV';
  if (/Ms$/.test(base)) return 'ms';
  if (/UM$/.test(base)) return 'µM';
  return undefined;
}

/** 'gNa (mS/cm²)', or the bare name when the unit is not known. */
export const withUnit = (name: string, unit: string | undefined): string => (unit ? `${name} (${unit})` : name);
