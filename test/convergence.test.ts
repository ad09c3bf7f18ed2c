/**
 * Observed convergence order of the two integrators on smooth, subthreshold runs.
 *
 * The observable is the membrane potential at fixed times (trace samples, which fall on the step
 * grid of every dt used). A time average would not do: the engine averages samples at the ends of
 * steps, a Riemann sum whose own error is O(dt) whatever the integrator. Each run is compared with
 * rk4 at a step 64× smaller than the coarsest (256× for HH with current), whose own error is at the
 * roundoff level (checked below: references at dt and 2·dt agree to ≤ 1e-11 mV); the order is the
 * least-squares slope of log|error| against log dt over dt = h, h/2, h/4, h/8.
 *
 * h is chosen so that every error stays in the asymptotic range and far above f64 roundoff: rk4's
 * smallest error is ~1.5e-10 mV, the roundoff accumulated over the reference's steps ~1e-13 mV.
 *
 * exp-euler shows a property of the gates-first order (docs/models.md §5): the gates advance with V at
 * the start of the step and V advances with the gates at the end of it, so if the gates are read as
 * living half a step earlier than V, each update takes its coefficients at the midpoint of its own
 * interval. That staggered (leapfrog-like) scheme is second order, provided the gates start half a
 * step before V, which holds for a cell whose gates start at steady state for its initial V (HH
 * with a current switched on at t = 0: exactly). With a cold start (gates not at the state they had
 * at −dt/2), or with [Ca] and V advancing side by side from each other's old values (prinz), it is
 * first order, as a splitting scheme is in general. The cases below separate these causes.
 */
import { describe, expect, it } from 'vitest';
import { libraryModel } from '../src/channels/index.ts';
import { compile } from '../src/compile/compile.ts';
import { runCpu } from '../src/engine/cpu.ts';
import type { Method } from '../src/compile/program.ts';
import type { InitKind } from '../src/model/model.ts';

interface Case {
  model: string;
  values: Record<string, number>;
  init?: InitKind;
  /** trace sample interval (ms); samples at sampleMs, 2·sampleMs, ... up to durationMs */
  sampleMs: number;
  durationMs: number;
}

async function voltages(c: Case, method: Method, dtMs: number) {
  const program = compile(libraryModel(c.model), { dtMs, method, values: c.values, init: c.init });
  const r = await runCpu({ program, N: 1, durationMs: c.durationMs, traceEveryMs: c.sampleMs, traceInstances: [0], spikeCapacity: 16 }, { threads: 1 });
  return { v: Array.from(r.traces!.series(0, 'V')), spikes: r.spikes[0].count[0], maxV: r.observed[0].max[0] };
}

/** Least-squares slope of log|e| against log dt. */
function order(dts: number[], errors: number[]): number {
  const lx = dts.map(Math.log), ly = errors.map((e) => Math.log(Math.abs(e)));
  const mx = lx.reduce((a, b) => a + b) / lx.length, my = ly.reduce((a, b) => a + b) / ly.length;
  let sxy = 0, sxx = 0;
  lx.forEach((v, i) => {
    sxy += (v - mx) * (ly[i] - my);
    sxx += (v - mx) ** 2;
  });
  return sxy / sxx;
}

async function observedOrders(c: Case, method: Method, h: number, referenceDt: number) {
  const ref = await voltages(c, 'rk4', referenceDt);
  const dts = [h, h / 2, h / 4, h / 8];
  const runs = await Promise.all(dts.map((dt) => voltages(c, method, dt)));
  for (const r of runs) expect(r.spikes).toBe(0); // every run stays smooth: no spike at any dt
  return ref.v.map((vRef, k) => {
    const errors = runs.map((r) => r.v[k] - vRef);
    return { timeMs: (k + 1) * c.sampleMs, errors, order: order(dts, errors) };
  });
}

describe('convergence order on smooth subthreshold runs', () => {
  // HH at rest plus a constant 2 µA/cm² from t = 0: a damped oscillation to a new rest near −63 mV,
  // below the threshold of repetitive firing (~6 µA/cm²) and of a single onset spike (~3 µA/cm²)
  const hh: Case = { model: 'hh', values: { IExtUAPerCm2: 2 }, sampleMs: 10, durationMs: 20 };
  // prinz AB/PD 1 from the cold start with the sodium current off: a slow calcium-driven
  // depolarisation from −50 mV, no spikes within 100 ms
  const prinz: Case = { model: 'prinz', values: { gNa: 0 }, sampleMs: 50, durationMs: 100 };

  it('the runs are subthreshold and the references converged', async () => {
    const a = await voltages(hh, 'rk4', 0.1 / 256), b = await voltages(hh, 'rk4', 0.1 / 128);
    expect(a.spikes).toBe(0);
    expect(a.maxV).toBeLessThan(-55);
    // rk4 references at dt and 2·dt agree to 1e-12 mV: their error is at the roundoff level
    a.v.forEach((v, k) => expect(Math.abs(v - b.v[k])).toBeLessThan(1e-12));
    const p = await voltages(prinz, 'rk4', 0.2 / 64), q = await voltages(prinz, 'rk4', 0.2 / 32);
    expect(p.spikes).toBe(0);
    expect(p.maxV).toBeLessThan(-20);
    p.v.forEach((v, k) => expect(Math.abs(v - q.v[k])).toBeLessThan(1e-11));
  });

  it('rk4 is fourth order (HH, h = 0.1 ms)', async () => {
    // errors at h/8 are ~1.5e-10 mV at t = 10 ms, 1000× the reference's roundoff
    for (const r of await observedOrders(hh, 'rk4', 0.1, 0.1 / 256)) {
      expect(Math.abs(r.errors[3]), `t = ${r.timeMs}`).toBeGreaterThan(1e-11);
      expect(r.order, `t = ${r.timeMs} ms, errors ${r.errors}`).toBeGreaterThan(3.5);
      expect(r.order, `t = ${r.timeMs} ms, errors ${r.errors}`).toBeLessThan(4.6);
    }
  });

  it('rk4 is fourth order (prinz without Na, h = 0.2 ms, at t = 100 ms)', async () => {
    // at t = 50 ms the errors reach roundoff (~1e-12 mV) already at h/4; at t = 100 ms, where V moves
    // fastest, they stay ≥ 1.5e-10 mV
    const [, late] = await observedOrders(prinz, 'rk4', 0.2, 0.2 / 64);
    expect(Math.abs(late.errors[3])).toBeGreaterThan(2e-11);
    expect(late.order, `errors ${late.errors}`).toBeGreaterThan(3.5);
    expect(late.order, `errors ${late.errors}`).toBeLessThan(4.6);
  });

  // exp-euler: which order, and why (see the header). Each case changes one thing.
  const expEulerCases: { name: string; c: Case; h: number; ref: number; lo: number; hi: number }[] = [
    { name: 'HH from steady state, constant current (consistent staggered start): second order', c: hh, h: 0.1, ref: 0.1 / 256, lo: 1.8, hi: 2.3 },
    {
      name: 'HH without Na from the cold start (m = h = n at 0/1, not at steady state): first order',
      c: { model: 'hh', values: { gNa: 0 }, init: 'cold', sampleMs: 10, durationMs: 20 }, h: 0.2, ref: 0.2 / 64, lo: 0.8, hi: 1.3,
    },
    { name: 'prinz without Na from the cold start: first order', c: prinz, h: 0.2, ref: 0.2 / 64, lo: 0.8, hi: 1.3 },
    {
      name: 'prinz without Na from steady state (V and [Ca] advance from each other\'s old values): first order',
      c: { ...prinz, init: 'steady' }, h: 0.2, ref: 0.2 / 64, lo: 0.8, hi: 1.3,
    },
    {
      name: 'prinz from steady state with Na and the calcium currents off ([Ca] decoupled from V): second order',
      c: { ...prinz, init: 'steady', values: { gNa: 0, gCaT: 0, gCaS: 0, gKCa: 0 } }, h: 0.2, ref: 0.2 / 64, lo: 1.8, hi: 2.3,
    },
  ];
  for (const e of expEulerCases) {
    it(`exp-euler: ${e.name}`, async () => {
      for (const r of await observedOrders(e.c, 'exp-euler', e.h, e.ref)) {
        // exp-euler errors are ≥ 1e-8 mV here: roundoff plays no part
        expect(Math.abs(r.errors[3])).toBeGreaterThan(1e-9);
        expect(r.order, `t = ${r.timeMs} ms, errors ${r.errors}`).toBeGreaterThan(e.lo);
        expect(r.order, `t = ${r.timeMs} ms, errors ${r.errors}`).toBeLessThan(e.hi);
      }
    });
  }
});
