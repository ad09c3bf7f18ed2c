/**
 * StepProgram: one integrator step of a model as straight-line expressions, with its tangent lanes,
 * ready for any emitter. Parameters that do not vary per instance are already folded into constants;
 * the ones that do (including every parameter a tangent lane differentiates by) are `param` leaves.
 */
import type { Expr } from '../model/expr.ts';
import type { InitKind } from '../model/model.ts';

export type Method = 'exp-euler' | 'rk4';
export const METHODS: readonly Method[] = ['exp-euler', 'rk4'];

/** The residual of a teacher-forced state (compile.ts, CompileOptions.residual). */
export type ResidualForm = 'equation-error' | 'prediction-error';
export const RESIDUAL_FORMS: readonly ResidualForm[] = ['equation-error', 'prediction-error'];

/**
 * One tangent lane: the derivative of everything with respect to one parameter, or with respect
 * to its logarithm (then d/d log p = p · d/dp, which keeps conductances positive when fitting).
 */
export interface Lane {
  /** as written by the user: 'gNa' or 'log:gNa' */
  key: string;
  param: string;
  log: boolean;
}

/** A step current: ampUAPerCm2 is added for startMs ≤ t < stopMs (edges on the nearest step). */
export interface CurrentStep {
  startMs: number;
  stopMs: number;
  ampUAPerCm2: number;
}

export interface ProgramState {
  name: string;
  unit: string;
}

export interface ProgramObserved {
  name: string;
  unit: string;
  kind: 'voltage' | 'calcium' | 'other';
  /** value from the state symbols */
  expr: Expr;
  /** per lane: derivative from the state and tangent symbols */
  tangent: Expr[];
}

export interface StepProgram {
  modelName: string;
  method: Method;
  dtMs: number;
  init: InitKind;
  states: ProgramState[];
  /** parameters read per instance, in buffer order */
  instanceParams: string[];
  /** value of every parameter: the constant it was folded to, or the default of an instance parameter */
  values: Record<string, number>;
  lanes: Lane[];
  /** initial state and tangents: expressions of instance parameters only */
  initial: { state: Expr[]; tangent: Expr[][] };
  /**
   * One step as increments: state' = state + increment, tangent' = tangent + tangentIncrement
   * ([lane][state]). Increments let f32 backends add them with compensated summation.
   */
  next: {
    increment: Expr[];
    /** the tangent increments in whichever exact form needs fewer operations (compile.ts, stepTangents) */
    tangentIncrement: Expr[][];
    /** the same derivatives in forward mode (the same arrays where forward mode is the smaller form) */
    forwardTangentIncrement: Expr[][];
  };
  observed: ProgramObserved[];
  spikeSources: { name: string; expr: Expr }[];
  /** the recordings the program reads (`input` leaves), in buffer order */
  inputs: string[];
  /**
   * indices of the residual states (teacher forcing): each sums its forced state's residual over a
   * window; at the window's end the engines add it to the normal equations and clear it
   */
  residuals: number[];
  residualForm?: ResidualForm;
  /**
   * per noisy recording (compile.ts, recordingNoise), the states from which the engines form the
   * expected contribution of its noise to the squared windowed residual: at each window's end they add
   * penalty + carry² and its tangents to NormalEquations.noise and clear both with the residuals
   */
  noisePenalties: { penalty: number; carry: number }[];
  /**
   * states that are not advanced (compile.ts, skipUnreadStates): nothing the program reports reads
   * them, their increment is 0 and they keep their initial value
   */
  frozen?: number[];
}

/**
 * Which form of the tangent increments an emitter writes: the one with fewer operations, or forward
 * mode. They differ only in the order of evaluation; a target picks the one it runs faster.
 */
export type TangentForm = 'smaller' | 'forward';

export function tangentIncrementOf(program: StepProgram, form: TangentForm): Expr[][] {
  return form === 'forward' ? program.next.forwardTangentIncrement : program.next.tangentIncrement;
}

/** Parses a lane key such as 'gNa', 'log:gNa' or 'log(gNa)'. */
export function parseLane(key: string): Lane {
  const trimmed = key.trim();
  const m = /^log(?::(.+)|\((.+)\))$/.exec(trimmed);
  if (m) return { key: `log:${(m[1] ?? m[2]).trim()}`, param: (m[1] ?? m[2]).trim(), log: true };
  return { key: trimmed, param: trimmed, log: false };
}
