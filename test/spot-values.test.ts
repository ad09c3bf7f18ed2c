/**
 * Gate functions of the Prinz 2003 channels against the spot values tabulated in docs/models.md §3
 * (computed there from the published equations), to 1e-5 relative: the table has six significant
 * digits, so 1e-5 is the tightest bound it supports.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { evaluate } from '../src/model/evaluate.ts';
import type { Model } from '../src/model/model.ts';

const V = [-80, -60, -50, -40, -20, 0];
const table: Record<string, number[]> = {
  'Na.m inf': [3.35494e-05, 0.00146895, 0.00964733, 0.0605958, 0.738792, 0.992001],
  'Na.h inf': [0.997537, 0.894999, 0.55289, 0.15211, 0.00376157, 7.94618e-05],
  'Na.m tau': [0.543314, 0.329595, 0.264457, 0.218698, 0.165325, 0.14057],
  'Na.h tau': [0.513098, 1.91547, 2.61128, 2.80446, 2.00357, 2.00636],
  'CaT.m inf': [0.000643965, 0.0102574, 0.039904, 0.142869, 0.728319, 0.977332],
  'CaT.h inf': [0.999835, 0.993774, 0.962836, 0.807891, 0.0997505, 0.00291094],
  'CaT.m tau': [28.1143, 17.9459, 13.2636, 9.42657, 4.52141, 2.28358],
  'CaT.h tau': [176.678, 133.388, 107.012, 82.7733, 50.5057, 37.0753],
  'CaS.m inf': [0.003011, 0.0344452, 0.109217, 0.296463, 0.832707, 0.983276],
  'CaS.h inf': [0.961794, 0.5, 0.166186, 0.038206, 0.00157549, 6.26791e-05],
  'CaS.m tau': [9.2722, 30.7859, 47.2487, 40.4321, 9.67922, 3.74059],
  'CaS.h tau': [234.689, 349.82, 260.547, 174.505, 126.133, 120.665],
  'A.m inf': [0.00230823, 0.0225301, 0.0678187, 0.186751, 0.695844, 0.95797],
  'A.h inf': [0.991113, 0.653091, 0.196524, 0.0307993, 0.000536122, 9.05445e-06],
  'A.m tau': [22.3022, 20.2059, 18.1022, 15.1857, 8.63395, 4.54212],
  'A.h tau': [66.9829, 59.0473, 54.0276, 48.606, 38.0072, 29.7359],
  'KCa.m inf': [0.000266421, 0.00122546, 0.002485, 0.00464286, 0.0108029, 0.0148247],
  'KCa.m tau': [153.15, 127.951, 112.1, 95.6323, 66.6485, 47.8916],
  'Kd.m inf': [0.00321314, 0.0172529, 0.0393575, 0.0872681, 0.342417, 0.739308],
  'Kd.m tau': [13.5884, 12.3396, 11.2752, 9.89182, 6.63781, 3.98517],
  'H.m inf': [0.712814, 0.0613831, 0.0105038, 0.00172013, 4.53979e-05, 1.1962e-06],
  'H.m tau': [1974.32, 831.358, 424.012, 211.877, 52.3953, 12.9394],
};

function gateFunction(model: Model, stateName: string, which: 'inf' | 'tau') {
  const def = model.states.find((s) => s.name === stateName);
  const expr = def?.ode[which];
  if (!expr) throw new Error(`${stateName} is not a gate with x∞ and τ`);
  const params = (name: string) => model.params[name].value;
  return (v: number, ca = 0.05) => evaluate(expr, { param: params, state: (s) => (s === 'V' ? v : s === 'Ca' ? ca : NaN) });
}

describe('Prinz 2003 gate functions (docs/models.md §3 spot values)', () => {
  const model = libraryModel('prinz');
  for (const [key, expected] of Object.entries(table)) {
    it(key, () => {
      const [state, which] = key.split(' ') as [string, 'inf' | 'tau'];
      const f = gateFunction(model, state, which);
      V.forEach((v, k) => expect(Math.abs(f(v) / expected[k] - 1), `${key} at V = ${v}`).toBeLessThan(1e-5));
    });
  }

  it('E_Ca at T = 283 K is 12.1936 mV × ln(3000/[Ca])', () => {
    // I_Ca/g = V − E_Ca: read E_Ca back from the calcium ODE at V = 0 with one open channel
    const ca = model.states.find((s) => s.name === 'Ca')!;
    const p = (n: string) => (n === 'gCaT' ? 1 : n === 'gCaS' ? 0 : model.params[n].value);
    const st = (s: string) => (s === 'V' ? 0 : s === 'Ca' ? 0.05 : s === 'CaT.m' || s === 'CaT.h' ? 1 : 0);
    // d[Ca]/dt = (Ca0 − f·A·1000·I_Ca − [Ca])/τ with [Ca] = Ca0 and I_Ca = 1·(0 − E_Ca)
    const rhs = evaluate(ca.ode.rhs, { param: p, state: st });
    const fA = 14.96 * 0.628e-3 * 1000;
    const eCa = (rhs * 200) / fA;
    expect(Math.abs(eCa / (12.1936 * Math.log(3000 / 0.05)) - 1)).toBeLessThan(1e-5);
  });
});

describe('Liu 1998 kinetics (docs/models.md §4)', () => {
  const prinz = libraryModel('prinz');
  const liu = libraryModel('liu');
  it('has the Prinz steady states and half the time constants, except H', () => {
    for (const s of ['Na.m', 'Na.h', 'CaT.m', 'CaT.h', 'CaS.m', 'CaS.h', 'A.m', 'A.h', 'KCa.m', 'Kd.m']) {
      for (const v of V) {
        expect(gateFunction(liu, s, 'inf')(v)).toBeCloseTo(gateFunction(prinz, s, 'inf')(v), 14);
        expect(gateFunction(liu, s, 'tau')(v) / gateFunction(prinz, s, 'tau')(v)).toBeCloseTo(0.5, 12);
      }
    }
  });
  it("uses Liu's own H current", () => {
    const inf = gateFunction(liu, 'H.m', 'inf'), tau = gateFunction(liu, 'H.m', 'tau');
    for (const v of V) {
      expect(inf(v)).toBeCloseTo(1 / (1 + Math.exp((v + 70) / 6)), 14);
      expect(tau(v)).toBeCloseTo(272 + 1499 / (1 + Math.exp((v + 42.2) / -8.73)), 10);
    }
  });
  it('has calcium τ = 20 ms and E_Na as a parameter', () => {
    expect(liu.params.tauCaMs.value).toBe(20);
    expect(liu.params.ENa.value).toBe(50);
  });
});
