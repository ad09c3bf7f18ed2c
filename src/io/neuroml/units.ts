/**
 * NeuroML quantities ("120.0 mS_per_cm2", "-65mV") in ionsweep's units, through NeuroML's own unit
 * table (units.generated.ts): a value is taken to SI by its unit, then to the ionsweep unit of the same
 * dimension (mV, ms, per ms, mS/cm², µF/cm², µA/cm², µM, cm, cm², nS, nA, °C).
 */
import { InputError } from '../../errors.ts';
import { NEUROML_UNITS } from './units.generated.ts';

/** ionsweep's unit for each NeuroML dimension, as its size in SI (and offset, for temperature). */
const IONSWEEP_UNIT: Record<string, { unit: string; si: number; offset?: number }> = {
  voltage: { unit: 'mV', si: 1e-3 },
  time: { unit: 'ms', si: 1e-3 },
  per_time: { unit: '1/ms', si: 1e3 },
  per_voltage: { unit: '1/mV', si: 1e3 },
  conductanceDensity: { unit: 'mS/cm²', si: 10 },
  specificCapacitance: { unit: 'µF/cm²', si: 1e-2 },
  currentDensity: { unit: 'µA/cm²', si: 1e-2 },
  concentration: { unit: 'µM', si: 1e-3 },
  length: { unit: 'cm', si: 1e-2 },
  area: { unit: 'cm²', si: 1e-4 },
  volume: { unit: 'cm³', si: 1e-6 },
  conductance: { unit: 'nS', si: 1e-9 },
  current: { unit: 'nA', si: 1e-9 },
  temperature: { unit: '°C', si: 1, offset: 273.15 },
};

const UNITS = new Map(NEUROML_UNITS.map((u) => [u.symbol, u]));
const QUANTITY = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z_][A-Za-z0-9_]*)?\s*$/;

/**
 * The value of a NeuroML quantity in ionsweep's unit for `dimension`; `where` names the element and
 * attribute for errors. A bare number is taken as dimensionless and refused for a dimension.
 */
export function quantity(text: string | undefined, dimension: keyof typeof IONSWEEP_UNIT, where: string): number {
  if (text === undefined) throw new InputError(`${where}: missing (a ${dimension} such as ${example(dimension)})`);
  const m = QUANTITY.exec(String(text));
  if (!m) throw new InputError(`${where}: '${text}' is not a number with a unit`);
  const value = Number(m[1]);
  if (!m[2]) throw new InputError(`${where}: '${text}' has no unit (a ${dimension} such as ${example(dimension)})`);
  const unit = UNITS.get(m[2]);
  if (!unit) throw new InputError(`${where}: unknown unit '${m[2]}' (NeuroMLCoreDimensions.xml has no such unit)`);
  if (unit.dimension !== dimension) throw new InputError(`${where}: '${text}' is a ${unit.dimension}, expected a ${dimension}`);
  const target = IONSWEEP_UNIT[dimension];
  // offsets first (degC to °C adds 273.15 − 273.15 = 0 exactly), then the scale; round away the
  // last-bit noise of the power-of-ten products (1e-3 · 1e3 ≠ 1 exactly)
  const shifted = value * unit.scale * 10 ** unit.power + (unit.offset - (target.offset ?? 0));
  return Number((shifted / target.si).toPrecision(15));
}

/** A NeuroML quantity in SI units (LEMS computes in SI), with its dimension's name. */
export function quantitySI(text: string, where: string): { value: number; dimension: string } {
  const m = QUANTITY.exec(String(text));
  if (!m) throw new InputError(`${where}: '${text}' is not a number with a unit`);
  if (!m[2]) return { value: Number(m[1]), dimension: 'none' };
  const unit = UNITS.get(m[2]);
  if (!unit) throw new InputError(`${where}: unknown unit '${m[2]}' (NeuroMLCoreDimensions.xml has no such unit)`);
  return { value: Number(m[1]) * unit.scale * 10 ** unit.power + unit.offset, dimension: unit.dimension };
}

const example = (dimension: string) => ({ voltage: '-65mV', time: '2ms', per_time: '0.1per_ms', conductanceDensity: '120mS_per_cm2' } as Record<string, string>)[dimension] ?? 'a value with its unit';
