/**
 * Liu, Golowasch, Marder & Abbott 1998 (J Neurosci 18:2309) kinetics (docs/models.md §4): the steady
 * states of Prinz 2003, every time constant halved, and Liu's own H current
 * (m∞ = σ((V+70)/6), τ = 272 + 1499 σ((V+42.2)/−8.73)), calcium τ = 20 ms. E_Na is a parameter
 * (50 mV by default; some ports use 30). A family of its own: not to be mixed with prinz channels.
 */
import type { NeuronDef } from '../model/neuron.ts';
import { PRINZ_DEFAULT_CONDUCTANCES, sigma, stgChannels, stgGates } from './prinz.ts';

const gates = stgGates(0.5);
gates.H = [{ name: 'm', power: 1, inf: sigma('(V + 70)/6'), tau: `272 + 1499*${sigma('(V + 42.2)/-8.73')}` }];

/** Liu 1998 neuron on the Prinz cell geometry; conductance defaults as prinz (AB/PD 1), calcium τ 20 ms. */
export const liuNeuron: NeuronDef = {
  name: 'liu',
  channels: stgChannels(gates, PRINZ_DEFAULT_CONDUCTANCES, 50),
  calcium: {},
  params: { initVMv: -50, celsius: 9.85, areaCm2: 0.628e-3, CmUFPerCm2: 1, tauCaMs: 20 },
  defaultInit: 'cold',
};
