/**
 * The Prinz 2003 neuron written out by hand as a plain JavaScript loop, straight from docs/models.md §3
 * and §5 (exponential Euler, gates first), with no compiler, no expression graph and no tangents.
 *
 * Two uses: the benchmark's baseline ("a plain single-threaded JavaScript loop of the same
 * equations"), and an independent implementation the compiled engine is tested against.
 */

const sig = (x: number) => 1 / (1 + Math.exp(x));

/** Conductances in the order Na, CaT, CaS, A, KCa, Kd, H, leak (mS/cm²). */
export type Conductances = [number, number, number, number, number, number, number, number];

export interface PlainRun {
  meanV: number;
  meanCa: number;
  spikes: number;
}

/**
 * Simulates one neuron from the cold start (V = −50 mV, m = 0, h = 1, [Ca] = 0.05 µM) and returns the
 * means after the discard and the number of upward crossings of 0 mV.
 */
export function runPlainPrinz(g: Conductances, durationMs: number, discardMs: number, dt: number): PlainRun {
  const [gNa, gCaT, gCaS, gA, gKCa, gKd, gH, gL] = g;
  const area = 0.628e-3, C = 1, tauCa = 200, f = 14.96, ca0 = 0.05;
  const ENa = 50, EK = -80, EH = -20, EL = -50;
  const rt2f = (8.314462618 * 1000 * 283) / (2 * 96485.33212);
  let V = -50, Ca = 0.05;
  let mNa = 0, hNa = 1, mCaT = 0, hCaT = 1, mCaS = 0, hCaS = 1, mA = 0, hA = 1, mKCa = 0, mKd = 0, mH = 0;
  const steps = Math.round(durationMs / dt), discard = Math.round(discardMs / dt);
  let sumV = 0, sumCa = 0, spikes = 0;
  const relax = (x: number, inf: number, tau: number) => inf + (x - inf) * Math.exp(-dt / tau);
  for (let n = 0; n < steps; n++) {
    // gates first, with the previous V and [Ca]
    mNa = relax(mNa, sig((V + 25.5) / -5.29), 2.64 - 2.52 * sig((V + 120) / -25));
    hNa = relax(hNa, sig((V + 48.9) / 5.18), 1.34 * sig((V + 62.9) / -10) * (1.5 + sig((V + 34.9) / 3.6)));
    mCaT = relax(mCaT, sig((V + 27.1) / -7.2), 43.4 - 42.6 * sig((V + 68.1) / -20.5));
    hCaT = relax(hCaT, sig((V + 32.1) / 5.5), 210 - 179.6 * sig((V + 55) / -16.9));
    mCaS = relax(mCaS, sig((V + 33) / -8.1), 2.8 + 14 / (Math.exp((V + 27) / 10) + Math.exp((V + 70) / -13)));
    hCaS = relax(hCaS, sig((V + 60) / 6.2), 120 + 300 / (Math.exp((V + 55) / 9) + Math.exp((V + 65) / -16)));
    mA = relax(mA, sig((V + 27.2) / -8.7), 23.2 - 20.8 * sig((V + 32.9) / -15.2));
    hA = relax(hA, sig((V + 56.9) / 4.9), 77.2 - 58.4 * sig((V + 38.9) / -26.5));
    mKCa = relax(mKCa, (Ca / (Ca + 3)) * sig((V + 28.3) / -12.6), 180.6 - 150.2 * sig((V + 46) / -22.7));
    mKd = relax(mKd, sig((V + 12.3) / -11.8), 14.4 - 12.8 * sig((V + 28.3) / -19.2));
    mH = relax(mH, sig((V + 75) / 5.5), 2 / (Math.exp((V + 169.7) / -11.6) + Math.exp((V - 26.7) / 14.3)));
    // conductances from the new gates
    const G_Na = gNa * mNa * mNa * mNa * hNa;
    const G_CaT = gCaT * mCaT * mCaT * mCaT * hCaT;
    const G_CaS = gCaS * mCaS * mCaS * mCaS * hCaS;
    const G_A = gA * mA * mA * mA * hA;
    const G_KCa = gKCa * mKCa * mKCa * mKCa * mKCa;
    const G_Kd = gKd * mKd * mKd * mKd * mKd;
    const G_H = gH * mH;
    const ECa = rt2f * Math.log(3000 / Ca);
    // calcium, then V, from the previous V and [Ca]
    const ICa = (G_CaT + G_CaS) * (V - ECa);
    const caInf = ca0 - f * area * 1000 * ICa;
    const caNew = caInf + (Ca - caInf) * Math.exp(-dt / tauCa);
    const G = G_Na + G_CaT + G_CaS + G_A + G_KCa + G_Kd + G_H + gL;
    const GE = G_Na * ENa + (G_CaT + G_CaS) * ECa + (G_A + G_KCa + G_Kd) * EK + G_H * EH + gL * EL;
    const vNew = G > 0 ? GE / G + (V - GE / G) * Math.exp((-dt * G) / C) : V;
    if (n >= discard) {
      if (V < 0 && vNew >= 0) spikes++;
      sumV += vNew;
      sumCa += caNew;
    }
    V = vNew;
    Ca = caNew;
  }
  return { meanV: sumV / (steps - discard), meanCa: sumCa / (steps - discard), spikes };
}
