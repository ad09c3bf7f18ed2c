/**
 * The library's synapse types (network.ts says how a synapse enters the membranes).
 *
 * Graded synapses of Prinz, Bucher & Marder 2004 (after Abbott & Marder 1998): the activation relaxes
 * towards a sigmoid of the presynaptic potential with a time constant that shrinks as it saturates,
 *
 *     ds/dt = (s̄(V_pre) − s)/τ_s,   s̄ = 1/(1 + exp((V_th − V_pre)/Δ)),   τ_s = (1 − s̄)/k₋
 *
 * with V_th = −35 mV, Δ = 5 mV; glutamatergic E_s = −70 mV, k₋ = 1/40 ms⁻¹; cholinergic E_s = −80 mV,
 * k₋ = 1/100 ms⁻¹. 1 − s̄ is written 1/(1 + exp((V_pre − V_th)/Δ)): the same number, but never 0 in
 * f32 where s̄ rounds to 1 during a spike (τ_s = 0 would make the rate infinite); it reaches 0 only for
 * V_pre above V_th + 88·Δ ≈ 400 mV, where exp overflows f32.
 *
 * Kinetic synapses of NeuronBuilder.jl: ds/dt = ½(1 + tanh(V_pre/10))·(1 − s)/τ_R − s/τ_D, an α/β gate
 * with α = ½(1 + tanh(V_pre/10))/τ_R and β = 1/τ_D. GABA_A: E −80 mV, τ_R 0.5 ms, τ_D 10 ms; AMPA:
 * E 0 mV, τ_R 0.2 ms, τ_D 2 ms.
 *
 * Electrical synapses (gap junctions): I = g·(V_pre − V_post) into the postsynaptic cell and its
 * mirror image into the presynaptic one.
 */
import type { ChemicalSynapseDef, ElectricalSynapseDef } from '../model/network.ts';
import type { ParamDef } from '../model/model.ts';

const mv = (value: number, description: string): ParamDef => ({ value, unit: 'mV', description, min: -500, max: 500 });
const ms = (value: number, description: string): ParamDef => ({ value, unit: 'ms', description, min: 0, exclusiveMin: true });

function graded(name: string, reversalMv: number, kMinusPerMs: number): ChemicalSynapseDef {
  const sBar = '1/(1 + exp((VthMv - V_pre)/DeltaMv))';
  const oneMinusSBar = '1/(1 + exp((V_pre - VthMv)/DeltaMv))';
  return {
    name,
    kind: 'chemical',
    reversal: 'EsMv',
    params: {
      EsMv: mv(reversalMv, 'reversal potential'),
      VthMv: mv(-35, 'half-activation presynaptic potential'),
      DeltaMv: { value: 5, unit: 'mV', description: 'slope of the activation sigmoid', min: 0, exclusiveMin: true },
      kMinusPerMs: { value: kMinusPerMs, unit: '1/ms', description: 'decay rate k₋ (τ_s = (1 − s̄)/k₋)', min: 0, exclusiveMin: true },
    },
    gates: [{ name: 's', power: 1, inf: sBar, tau: `${oneMinusSBar}/kMinusPerMs` }],
    source: 'Prinz, Bucher & Marder 2004 (Nat Neurosci 7:1345); Abbott & Marder 1998',
  };
}

function kinetic(name: string, reversalMv: number, riseMs: number, decayMs: number): ChemicalSynapseDef {
  return {
    name,
    kind: 'chemical',
    reversal: 'EsMv',
    params: { EsMv: mv(reversalMv, 'reversal potential'), tauRMs: ms(riseMs, 'rise time constant τ_R'), tauDMs: ms(decayMs, 'decay time constant τ_D') },
    gates: [{ name: 's', power: 1, alpha: '0.5*(1 + tanh(V_pre/10))/tauRMs', beta: '1/tauDMs' }],
    source: 'NeuronBuilder.jl synapses',
  };
}

/** Prinz 2004 graded glutamatergic synapse (E −70 mV, k₋ 1/40 ms⁻¹). */
export const glutamatergic = graded('glutamatergic', -70, 1 / 40);
/** Prinz 2004 graded cholinergic synapse (E −80 mV, k₋ 1/100 ms⁻¹). */
export const cholinergic = graded('cholinergic', -80, 1 / 100);
/** NeuronBuilder.jl kinetic GABA_A synapse (E −80 mV, τ_R 0.5 ms, τ_D 10 ms). */
export const gabaA = kinetic('GABA_A', -80, 0.5, 10);
/** NeuronBuilder.jl kinetic AMPA synapse (E 0 mV, τ_R 0.2 ms, τ_D 2 ms). */
export const ampa = kinetic('AMPA', 0, 0.2, 2);
/** Gap junction: I = g·(V_pre − V_post) on both cells. */
export const electrical: ElectricalSynapseDef = { name: 'electrical', kind: 'electrical', source: 'ohmic gap junction' };

/** The library's synapse types by name. */
export const SYNAPSES = { glutamatergic, cholinergic, gabaA, ampa, electrical } as const;
