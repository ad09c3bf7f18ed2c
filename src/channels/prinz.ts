/**
 * Prinz, Billimoria & Marder 2003 (J Neurophysiol 90:3998) STG model neuron: eight conductances and
 * an intracellular calcium pool, kinetics as tabulated in docs/models.md §3. In the formulas
 * σ(x) = 1/(1 + exp(x)) is written out; note its sign convention (σ((V+25.5)/−5.29) rises with V).
 *
 * The H time constant uses 2/(exp((V+169.7)/−11.6) + exp((V−26.7)/14.3)) as published; ports of
 * Prinz's C code write 2/(exp(−14.59 − 0.086V) + exp(−1.87 + 0.0701V)), up to 1.2 % different.
 */
import type { ChannelDef, GateDef, NeuronDef } from '../model/neuron.ts';

/** σ(x) of docs/models.md §3 as text: 1/(1+exp(x)). */
export const sigma = (x: string): string => `1/(1 + exp(${x}))`;

/** Kinetics shared with the Liu 1998 family: same steady states, time constants scaled by `tauScale`. */
export function stgGates(tauScale: number): Record<string, GateDef[]> {
  const t = (tau: string) => (tauScale === 1 ? tau : `${tauScale}*(${tau})`);
  return {
    Na: [
      { name: 'm', power: 3, inf: sigma('(V + 25.5)/-5.29'), tau: t(`2.64 - 2.52*${sigma('(V + 120)/-25')}`) },
      {
        name: 'h', power: 1, coldStart: 1, inf: sigma('(V + 48.9)/5.18'),
        tau: t(`1.34*${sigma('(V + 62.9)/-10')}*(1.5 + ${sigma('(V + 34.9)/3.6')})`),
      },
    ],
    CaT: [
      { name: 'm', power: 3, inf: sigma('(V + 27.1)/-7.2'), tau: t(`43.4 - 42.6*${sigma('(V + 68.1)/-20.5')}`) },
      { name: 'h', power: 1, coldStart: 1, inf: sigma('(V + 32.1)/5.5'), tau: t(`210 - 179.6*${sigma('(V + 55)/-16.9')}`) },
    ],
    CaS: [
      { name: 'm', power: 3, inf: sigma('(V + 33)/-8.1'), tau: t('2.8 + 14/(exp((V + 27)/10) + exp((V + 70)/-13))') },
      { name: 'h', power: 1, coldStart: 1, inf: sigma('(V + 60)/6.2'), tau: t('120 + 300/(exp((V + 55)/9) + exp((V + 65)/-16))') },
    ],
    A: [
      { name: 'm', power: 3, inf: sigma('(V + 27.2)/-8.7'), tau: t(`23.2 - 20.8*${sigma('(V + 32.9)/-15.2')}`) },
      { name: 'h', power: 1, coldStart: 1, inf: sigma('(V + 56.9)/4.9'), tau: t(`77.2 - 58.4*${sigma('(V + 38.9)/-26.5')}`) },
    ],
    KCa: [
      { name: 'm', power: 4, inf: `Ca/(Ca + 3)*${sigma('(V + 28.3)/-12.6')}`, tau: t(`180.6 - 150.2*${sigma('(V + 46)/-22.7')}`) },
    ],
    Kd: [{ name: 'm', power: 4, inf: sigma('(V + 12.3)/-11.8'), tau: t(`14.4 - 12.8*${sigma('(V + 28.3)/-19.2')}`) }],
    H: [{ name: 'm', power: 1, inf: sigma('(V + 75)/5.5'), tau: t('2/(exp((V + 169.7)/-11.6) + exp((V - 26.7)/14.3))') }],
  };
}

/** The eight channels of the STG cell with the given gates and conductance defaults. */
export function stgChannels(gates: Record<string, GateDef[]>, g: Record<string, number>, eNaMv: number): ChannelDef[] {
  const source = 'Prinz, Billimoria & Marder 2003; Liu et al. 1998';
  const ch = (name: string, reversal: string, extra: Record<string, number>, carriesCalcium = false): ChannelDef => ({
    name, conductance: `g${name}`, reversal, carriesCalcium, gates: gates[name] ?? [], params: { [`g${name}`]: g[`g${name}`], ...extra }, source,
  });
  return [
    ch('Na', 'ENa', { ENa: eNaMv }),
    ch('CaT', 'nernst-ca', {}, true),
    ch('CaS', 'nernst-ca', {}, true),
    ch('A', 'EK', { EK: -80 }),
    ch('KCa', 'EK', { EK: -80 }),
    ch('Kd', 'EK', { EK: -80 }),
    ch('H', 'EH', { EH: -20 }),
    ch('Leak', 'ELeak', { ELeak: -50 }),
  ];
}

/** Default conductances: the bursting AB/PD 1 cell of Prinz et al. 2004 (docs/models.md §6), mS/cm². */
export const PRINZ_DEFAULT_CONDUCTANCES = {
  gNa: 400, gCaT: 2.5, gCaS: 6, gA: 50, gKCa: 10, gKd: 100, gH: 0.01, gLeak: 0,
};

/**
 * The Prinz 2003 neuron: area 0.628e-3 cm², C = 1 µF/cm², T = 283 K (celsius 9.85, which sets
 * RT/2F = 12.1936 mV in E_Ca), cold start V = −50 mV, m = 0, h = 1, [Ca] = 0.05 µM.
 */
export const prinzNeuron: NeuronDef = {
  name: 'prinz',
  channels: stgChannels(stgGates(1), PRINZ_DEFAULT_CONDUCTANCES, 50),
  calcium: {},
  params: { initVMv: -50, celsius: 9.85, areaCm2: 0.628e-3, CmUFPerCm2: 1, tauCaMs: 200 },
  defaultInit: 'cold',
};
