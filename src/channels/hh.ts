/**
 * Hodgkin & Huxley 1952 squid axon, in the conventions of NEURON's built-in `hh` mechanism
 * (docs/models.md §2): V in mV with rest near −65 mV, rates in ms⁻¹ scaled by q10 = 3^((celsius − 6.3)/10).
 * αm and αn have a removable singularity; `linoid` evaluates them through the safe exprel.
 */
import type { ChannelDef, NeuronDef } from '../model/neuron.ts';

const q10 = '3^((celsius - 6.3)/10)';

export const Na: ChannelDef = {
  name: 'Na',
  conductance: 'gNa',
  reversal: 'ENa',
  rateFactor: q10,
  params: { gNa: 120, ENa: 50 },
  gates: [
    { name: 'm', power: 3, alpha: '0.1*linoid(V + 40, 10)', beta: '4*exp(-(V + 65)/18)' },
    { name: 'h', power: 1, coldStart: 1, alpha: '0.07*exp(-(V + 65)/20)', beta: '1/(1 + exp(-(V + 35)/10))' },
  ],
  source: 'Hodgkin & Huxley 1952; NEURON hh.mod',
};

export const K: ChannelDef = {
  name: 'K',
  conductance: 'gK',
  reversal: 'EK',
  rateFactor: q10,
  params: { gK: 36, EK: -77 },
  gates: [{ name: 'n', power: 4, alpha: '0.01*linoid(V + 55, 10)', beta: '0.125*exp(-(V + 65)/80)' }],
  source: 'Hodgkin & Huxley 1952; NEURON hh.mod',
};

export const Leak: ChannelDef = {
  name: 'Leak',
  conductance: 'gL',
  reversal: 'ELeak',
  params: { gL: 0.3, ELeak: -54.3 },
  gates: [],
  source: 'Hodgkin & Huxley 1952; NEURON hh.mod',
};

/** The HH neuron: starts at −65 mV with every gate at its steady state, as NEURON's finitialize does. */
export const hhNeuron: NeuronDef = {
  name: 'hh',
  channels: [Na, K, Leak],
  params: { initVMv: -65, celsius: 6.3, CmUFPerCm2: 1 },
  defaultInit: 'steady',
};
