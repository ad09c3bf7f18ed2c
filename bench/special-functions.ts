/**
 * The special-function operations of a compiled step, as an NVIDIA GPU runs them with the platform's
 * exp (gpuMath: fast): each exp, log and division by a value that changes per step is one instruction
 * on the multi-function unit (MUFU: EX2, LG2, RCP), which an H100/H200 SM runs at 16 results per
 * clock against 128 for f32 arithmetic (CUDA programming guide, compute capability 9.0). A kernel
 * whose step holds many of them is bound by that unit: the probe of docs/runtime.md, a Prinz 2003
 * cell with 76 per step (bench/native/prinz.cu written plainly, counted in PROBE_CELL_SPECIAL_OPS),
 * ran at 5.3e10 cell-steps/s on an H200, 4.0e12 special-function results/s, 96 % of the unit's
 * 4.18e12 (132 SMs × 16 × 1.98 GHz). So a step's count, against the probe's, bounds how fast an
 * H200 can run it whatever the rest of the step costs.
 *
 * Counted: the step's nodes that depend on the state (those a kernel evaluates every step; what
 * depends only on parameters is hoisted out of the time loop). expm1 and exprel whose argument's range
 * allows the branch-free series (kernel-common.ts seriesTermsOf) use no special function; the others
 * take the series near 0 and exp beyond, counted as one exp (their worst case).
 */
import { seriesTermsOf } from '../src/compile/kernel-common.ts';
import type { StepProgram } from '../src/compile/program.ts';
import { variantIds } from '../src/compile/schedule.ts';
import { topoOrder } from '../src/model/expr.ts';

/**
 * bench/native/prinz.cu's step, counted by hand: 20 sigmoids (an exp and a reciprocal each), 6 plain
 * exps and 3 divisions in the time constants of CaS m, CaS h and H, 11 gate relaxations exp(−dt/τ)
 * (a division and an exp each), KCa's [Ca]/([Ca] + 3), E_Ca's log(3000/[Ca]) (a log and a division),
 * V∞ = ΣgE/G and exp(−dt·G/C) (a division and an exp); [Ca]'s exp(−dt/τ_Ca) does not change per step.
 */
export const PROBE_CELL_SPECIAL_OPS = { exp: 38, log: 1, division: 37, total: 76 };

/** An H200's special-function results per second, from the probe: 5.3e10 cell-steps/s × 76 per step. */
export const H200_SPECIAL_OPS_PER_S = 5.3e10 * PROBE_CELL_SPECIAL_OPS.total;

export interface SpecialFunctionOps {
  exp: number;
  log: number;
  /** divisions whose divisor changes per step (a division by a constant is a multiplication) */
  division: number;
  /** expm1 and exprel beyond the series' range: one exp where the argument leaves it */
  expm1General: number;
  /** sqrt, trigonometric and hyperbolic functions: one each (the pyloric and prinz steps have none) */
  other: number;
  total: number;
}

const OTHER_SPECIAL = new Set(['sqrt', 'sin', 'cos', 'tan', 'tanh', 'sinh', 'cosh']);

/** The special-function operations per step of `program` (no tangent lanes: the database's kernels have none). */
export function specialFunctionOps(program: StepProgram): SpecialFunctionOps {
  const seriesTerms = seriesTermsOf(program, 'smaller');
  const order = topoOrder(program.next.increment);
  const variant = variantIds(order);
  const n = { exp: 0, log: 0, division: 0, expm1General: 0, other: 0 };
  for (const node of order) {
    if (!variant.has(node.id)) continue;
    if (node.op === 'exp') n.exp++;
    else if (node.op === 'log') n.log++;
    else if (node.op === 'div' && variant.has(node.args[1].id)) n.division++;
    else if ((node.op === 'expm1' || node.op === 'exprel') && seriesTerms(node) === 0) n.expm1General++;
    else if (OTHER_SPECIAL.has(node.op)) n.other++;
  }
  return { ...n, total: n.exp + n.log + n.division + n.expm1General + n.other };
}
