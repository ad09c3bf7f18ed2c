"""An independent integration of the Prinz 2004 pyloric network, to check ionsweep's from outside:
the equations as published (docs/models.md §3 and §6), written out here again in NumPy without any of
ionsweep's code, integrated by SciPy's Radau (implicit, 5th order, adaptive) at tight tolerances
instead of exponential Euler at a fixed step. The protocol is the database's (examples/prinz-2004.yaml):
each cell alone for 10 s from its cold start, then connected, every synaptic gate at 0, for 20 s.
Writes the voltage maxima of the last 10 s per cell (times in ms, values in mV; a maximum counts once V
has fallen 0.05 mV below it, as in ionsweep) and each cell's mean V, as JSON on stdout, which
scripts/classify-maxima.ts classifies by the rules of docs/models.md §8 and §10.

    python3 scripts/independent-pyloric.py ABPD4,LP2,PY1 3,100,10,1,10,3,10 [rtol] > j.json
    deno run -A scripts/classify-maxima.ts j.json

Needs numpy and scipy (Debian: python3-scipy). One network takes 5 to 10 minutes on one core at
rtol 1e-7 (the right-hand side is plain Python)."""
import json, sys
import numpy as np
from scipy.integrate import solve_ivp

CELLS = {  # Na CaT CaS A KCa Kd H leak (mS/cm^2)
 'ABPD1': [400, 2.5, 6, 50, 10, 100, 0.01, 0], 'ABPD2': [100, 2.5, 6, 50, 5, 100, 0.01, 0],
 'ABPD3': [200, 2.5, 4, 50, 5, 50, 0.01, 0], 'ABPD4': [200, 5.0, 4, 40, 5, 125, 0.01, 0],
 'ABPD5': [300, 2.5, 2, 10, 5, 125, 0.01, 0],
 'LP1': [100, 0, 8, 40, 5, 75, 0.05, 0.02], 'LP2': [100, 0, 6, 30, 5, 50, 0.05, 0.02],
 'LP3': [100, 0, 10, 50, 5, 100, 0, 0.03], 'LP4': [100, 0, 4, 20, 0, 25, 0.05, 0.03],
 'LP5': [100, 0, 6, 30, 0, 50, 0.03, 0.02],
 'PY1': [100, 2.5, 2, 50, 0, 125, 0.05, 0.01], 'PY2': [200, 7.5, 0, 50, 0, 75, 0.05, 0],
 'PY3': [200, 10, 0, 50, 0, 100, 0.03, 0], 'PY4': [400, 2.5, 2, 50, 0, 75, 0.05, 0],
 'PY5': [500, 2.5, 2, 40, 0, 125, 0.01, 0.03], 'PY6': [500, 2.5, 2, 40, 0, 125, 0, 0.02],
}
sig = lambda x: 1.0 / (1.0 + np.exp(x))
NS = 1e-6 / 0.628e-3  # 1 nS on the 0.628e-3 cm^2 cell, in mS/cm^2
# per cell: V, Ca, mNa hNa mCaT hCaT mCaS hCaS mA hA mKCa mKd mH  (13 states)
def cell_rates(y, g):
    V, Ca, mNa, hNa, mCaT, hCaT, mCaS, hCaS, mA, hA, mKCa, mKd, mH = y
    ECa = 12.1936 * np.log(3000.0 / Ca)
    INa = g[0] * mNa**3 * hNa * (V - 50)
    ICaT = g[1] * mCaT**3 * hCaT * (V - ECa)
    ICaS = g[2] * mCaS**3 * hCaS * (V - ECa)
    IA = g[3] * mA**3 * hA * (V + 80)
    IKCa = g[4] * mKCa**4 * (V + 80)
    IKd = g[5] * mKd**4 * (V + 80)
    IH = g[6] * mH * (V + 20)
    IL = g[7] * (V + 50)
    d = np.empty(13)
    d[0] = -(INa + ICaT + ICaS + IA + IKCa + IKd + IH + IL)
    d[1] = (-9.395 * (ICaT + ICaS) - Ca + 0.05) / 200.0
    gate = lambda x, inf, tau: (inf - x) / tau
    d[2] = gate(mNa, sig((V + 25.5) / -5.29), 2.64 - 2.52 * sig((V + 120) / -25))
    d[3] = gate(hNa, sig((V + 48.9) / 5.18), 1.34 * sig((V + 62.9) / -10) * (1.5 + sig((V + 34.9) / 3.6)))
    d[4] = gate(mCaT, sig((V + 27.1) / -7.2), 43.4 - 42.6 * sig((V + 68.1) / -20.5))
    d[5] = gate(hCaT, sig((V + 32.1) / 5.5), 210 - 179.6 * sig((V + 55) / -16.9))
    d[6] = gate(mCaS, sig((V + 33) / -8.1), 2.8 + 14 / (np.exp((V + 27) / 10) + np.exp((V + 70) / -13)))
    d[7] = gate(hCaS, sig((V + 60) / 6.2), 120 + 300 / (np.exp((V + 55) / 9) + np.exp((V + 65) / -16)))
    d[8] = gate(mA, sig((V + 27.2) / -8.7), 23.2 - 20.8 * sig((V + 32.9) / -15.2))
    d[9] = gate(hA, sig((V + 56.9) / 4.9), 77.2 - 58.4 * sig((V + 38.9) / -26.5))
    d[10] = gate(mKCa, Ca / (Ca + 3) * sig((V + 28.3) / -12.6), 180.6 - 150.2 * sig((V + 46) / -22.7))
    d[11] = gate(mKd, sig((V + 12.3) / -11.8), 14.4 - 12.8 * sig((V + 28.3) / -19.2))
    d[12] = gate(mH, sig((V + 75) / 5.5), 2 / (np.exp((V + 169.7) / -11.6) + np.exp((V - 26.7) / 14.3)))
    return d

COLD = [-50, 0.05, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0]
def sbar_rate(s, Vpre, k):
    # ds/dt = (sbar - s)/tau_s, tau_s = (1 - sbar)/k, 1/(1 - sbar) = 1 + exp((Vpre + 35)/5)
    sbar = sig((-35 - Vpre) / 5)
    return (sbar - s) * k * (1 + np.exp((Vpre + 35) / 5))

def network(cells, gsyn):
    gs = [CELLS[c] for c in cells]
    g = [x * NS for x in gsyn]  # AB->LP, PD->LP, AB->PY, PD->PY, LP->ABPD, LP->PY, PY->LP
    def f(t, y):
        ab, lp, py = y[0:13], y[13:26], y[26:39]
        sABg, sPDc, sLPg, sPYg = y[39:43]
        d = np.empty(43)
        d[0:13] = cell_rates(ab, gs[0]); d[13:26] = cell_rates(lp, gs[1]); d[26:39] = cell_rates(py, gs[2])
        d[0] -= g[4] * sLPg * (ab[0] + 70)
        d[13] -= g[0] * sABg * (lp[0] + 70) + g[1] * sPDc * (lp[0] + 80) + g[6] * sPYg * (lp[0] + 70)
        d[26] -= g[2] * sABg * (py[0] + 70) + g[3] * sPDc * (py[0] + 80) + g[5] * sLPg * (py[0] + 70)
        d[39] = sbar_rate(sABg, ab[0], 1 / 40); d[40] = sbar_rate(sPDc, ab[0], 1 / 100)
        d[41] = sbar_rate(sLPg, lp[0], 1 / 40); d[42] = sbar_rate(sPYg, py[0], 1 / 40)
        return d
    return f

def sparsity(n):
    # a cell's states depend on its own states; a cell's V on the gates onto it; a gate on its own value and the presynaptic V
    S = np.zeros((n, n), bool)
    for k in range(n // 13):
        S[13 * k:13 * k + 13, 13 * k:13 * k + 13] = True
    if n == 43:
        S[0, 41] = True                                     # AB/PD V <- LP glut gate
        S[13, [39, 40, 42]] = True                          # LP V <- AB glut, PD chol, PY glut
        S[26, [39, 40, 41]] = True                          # PY V <- AB glut, PD chol, LP glut
        for gate, pre in [(39, 0), (40, 0), (41, 13), (42, 26)]: S[gate, gate] = S[gate, pre] = True
    return S

def solve(f, y0, t0, t1, rtol, t_eval=None):
    r = solve_ivp(f, (t0, t1), y0, method='Radau', rtol=rtol, atol=rtol * 1e-3, t_eval=t_eval, max_step=0.5, jac_sparsity=sparsity(len(y0)))
    assert r.success, r.message
    return r

def maxima(t, v, hyst=0.05):
    out_t, out_v = [], []
    rising, ext, ext_t = False, np.inf, 0.0
    for tk, vk in zip(t, v):
        if rising:
            if vk > ext: ext, ext_t = vk, tk
            elif vk < ext - hyst: out_t.append(ext_t); out_v.append(ext); rising, ext, ext_t = False, vk, tk
        else:
            if vk < ext: ext, ext_t = vk, tk
            elif vk > ext + hyst: rising, ext, ext_t = True, vk, tk
    return out_t, out_v

if __name__ == '__main__':
    cells = sys.argv[1].split(','); gsyn = [float(x) for x in sys.argv[2].split(',')]
    rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-7
    iso = [solve(lambda t, y, gc=CELLS[c]: cell_rates(y, gc), np.array(COLD, float), 0, 10000, rtol).y[:, -1] for c in cells]
    y0 = np.concatenate(iso + [np.zeros(4)])
    f = network(cells, gsyn)
    mid = solve(f, y0, 0, 10000, rtol).y[:, -1]
    t_eval = np.arange(10000, 20000, 0.01)
    r = solve(f, mid, 10000, 20000, rtol, t_eval)
    out = {}
    for k, c in enumerate(['ABPD', 'LP', 'PY']):
        mt, mv = maxima(r.t, r.y[13 * k])
        out[c] = {'maximaTimesMs': mt, 'maximaValuesMv': mv, 'meanVMv': float(np.mean(r.y[13 * k]))}
    json.dump(out, sys.stdout)
