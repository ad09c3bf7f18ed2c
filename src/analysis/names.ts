/** Names of observables in outputs: statistic + quantity + unit, e.g. meanVMv, maxCaUM. */

const UNIT_SUFFIX: Record<string, string> = { mV: 'Mv', 'µM': 'UM', uM: 'UM', 'µA/cm²': 'UAPerCm2', 'mS/cm²': 'MsPerCm2', '1': '', '': '' };

/** Unit as a name suffix: mV → Mv, µM → UM. */
export function unitSuffix(unit: string): string {
  if (unit in UNIT_SUFFIX) return UNIT_SUFFIX[unit];
  const clean = unit.replace(/µ/g, 'u').replace(/[^A-Za-z0-9]/g, '');
  return clean.charAt(0).toUpperCase() + clean.slice(1).toLowerCase();
}

/** observableKey('mean', 'V', 'mV') = 'meanVMv'; with an empty statistic, 'VMv'. */
export function observableKey(stat: string, name: string, unit: string): string {
  const base = name.replace(/[^A-Za-z0-9]/g, '_');
  return `${stat}${stat ? base.charAt(0).toUpperCase() + base.slice(1) : base}${unitSuffix(unit)}`;
}
