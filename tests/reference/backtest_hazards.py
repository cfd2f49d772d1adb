"""pdsim backtest's scores, paired differences and stacking weights,
recomputed independently from the hazards it exports (--hazards-csv).

    backtest_hazards.py HAZARDS.csv SCORES.csv STDOUT.txt [RUN.h5]

- every score of SCORES.csv (--csv) from the hazards, to 1e-12 relative;
- the pooled paired differences and their unit-clustered standard errors
  (statsmodels OLS on a constant, clustered by unit, at the level of the
  unit-year or, for RPS, the unit-origin), against the printed table;
- the stacking weights: scipy's SLSQP on the simplex from several starts
  against the printed weights and stacked log score;
- with RUN.h5, a result of `pdsim run` of the same single config whose
  reliability backtest has the same origins and runs: its /reliability/backtest
  (pooled scores, paired differences with clustered SEs, stacking weights)
  against the same independent recomputations.
"""
import csv
import re
import sys
from collections import defaultdict

import numpy as np
import scipy.optimize
import statsmodels.api as sm

EPS = 1e-9
hpath, spath, opath = sys.argv[1:4]
h5path = sys.argv[4] if len(sys.argv) > 4 else None
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL " + msg)


# (config, cutoff, forecaster) -> unit -> list of (year, at_risk, adopted, hazard)
H = defaultdict(lambda: defaultdict(list))
configs, baselines = [], []
with open(hpath, newline="") as f:
    for r in csv.DictReader(f):
        key = (r["config"], int(r["cutoff"]), r["forecaster"])
        H[key][r["unit"]].append((int(r["year"]), int(r["at_risk"]), int(r["adopted"]),
                                  float(r["hazard"])))
        if r["config"] not in configs:
            configs.append(r["config"])


def scores(units):
    brier = logs = rps = 0.0
    n_uy = 0
    for rows in units.values():
        rows.sort()
        surv = 1.0
        adopted_by = 0
        for year, at_risk, adopted, h in rows:
            if at_risk:
                brier += (h - adopted) ** 2
                hc = min(max(h, EPS), 1 - EPS)
                logs -= np.log(hc) if adopted else np.log1p(-hc)
                n_uy += 1
            adopted_by |= adopted
            surv *= 1 - h
            rps += (1 - surv - adopted_by) ** 2
    return brier / n_uy, logs / n_uy, rps / len(units), n_uy


# 1. the scores file
n_checked = 0
with open(spath, newline="") as f:
    for r in csv.DictReader(f):
        key = (r["config"], int(r["cutoff"]), r["forecaster"])
        b, l, p, n_uy = scores(H[key])
        if n_uy != int(r["unit_years"]):
            fail(f"{key}: {n_uy} unit-years, the CSV says {r['unit_years']}")
        for name, mine in (("brier", b), ("log_score", l), ("rps", p)):
            theirs = float(r[name])
            if abs(mine - theirs) > 1e-12 * max(1.0, abs(theirs)):
                fail(f"{key} {name}: recomputed {mine!r}, pdsim {theirs!r}")
            n_checked += 1
print(f"ok {n_checked} scores recomputed to 1e-12")

# 2. the forecasters of the comparison: each config's model, then the
# first config's baselines
cutoffs = sorted({k[1] for k in H})
fc = [(c, "model") for c in configs] + [(configs[0], b) for b in
                                        ("model, channels off", "constant hazard", "logistic curve")]
# per observation: unit-year rows (unit, values per forecaster) and unit-origin rows
uy_unit, uy_q, uy_sq, uy_log = [], [], [], []
uo_unit, uo_rps = [], []
for c in cutoffs:
    units = sorted(H[(configs[0], c, "model")])
    for u in units:
        per = [sorted(H[(cf, c, name)][u]) for cf, name in fc]
        years = len(per[0])
        surv = np.ones(len(fc))
        rps = np.zeros(len(fc))
        adopted_by = 0
        for t in range(years):
            at_risk, adopted = per[0][t][1], per[0][t][2]
            h = np.array([p[t][3] for p in per])
            adopted_by |= adopted
            surv *= 1 - h
            rps += (1 - surv - adopted_by) ** 2
            if at_risk:
                hc = np.clip(h, EPS, 1 - EPS)
                uy_unit.append(u)
                uy_q.append(hc if adopted else 1 - hc)
                uy_sq.append((h - adopted) ** 2)
                uy_log.append(-np.log(hc) if adopted else -np.log1p(-hc))
        uo_unit.append(u)
        uo_rps.append(rps)
uy_q, uy_sq, uy_log, uo_rps = map(np.array, (uy_q, uy_sq, uy_log, uo_rps))


def clustered(d, groups):
    """mean and cluster-robust SE"""
    res = sm.OLS(d, np.ones((len(d), 1))).fit(cov_type="cluster", cov_kwds={"groups": groups})
    # statsmodels' correction G/(G-1) (n-1)/(n-k) is G/(G-1) for k = 1, as pdsim's
    return res.params[0], res.bse[0]


codes = {u: i for i, u in enumerate(sorted(set(uo_unit)))}
g_uy = np.array([codes[u] for u in uy_unit])
g_uo = np.array([codes[u] for u in uo_unit])
out = open(opath, encoding="utf-8").read()
comp = out[out.index("== comparison of the forecasters"):]
rows = re.findall(r"^\[(\d+)\]\s+\[(\d+)\]\s+([-+0-9.]+) \(([0-9.]+)\)\s+([-+0-9.]+) \(([0-9.]+)\)"
                  r"\s+([-+0-9.]+) \(([0-9.]+)\)", comp, re.M)
if len(rows) != len(configs) * 3 + len(configs) - 1:
    fail(f"{len(rows)} rows of paired differences")
worst = 0.0
for r in rows:
    a, b = int(r[0]) - 1, int(r[1]) - 1
    vals = list(map(float, r[2:]))
    for s, (x, g) in enumerate(((uy_sq, g_uy), (uy_log, g_uy), (uo_rps, g_uo))):
        m, se = clustered(x[:, a] - x[:, b], g)
        for mine, theirs in ((m, vals[2 * s]), (se, vals[2 * s + 1])):
            worst = max(worst, abs(mine - theirs))
            if abs(mine - theirs) > 6e-6:
                fail(f"[{a + 1}] - [{b + 1}] score {s}: statsmodels {mine:.7f}, pdsim {theirs}")
print(f"checked {len(rows)} paired differences x 3 scores against statsmodels (worst {worst:.1e})")

# 3. stacking: maximize sum log(q w) on the simplex
K = len(fc)
w_pdsim = np.array([float(x) for x in re.findall(r"^\[\d+\]\s+([0-9.]+)$", comp, re.M)])
stack_log = float(re.search(r"stacked forecast per unit-year: ([0-9.]+)", comp).group(1))
if len(w_pdsim) != K:
    fail(f"{len(w_pdsim)} stacking weights printed, {K} forecasters")


def negll(w):
    return -np.sum(np.log(uy_q @ w))


best = None
rng = np.random.default_rng(1)
for start in [np.full(K, 1 / K)] + [rng.dirichlet(np.ones(K)) for _ in range(5)]:
    r = scipy.optimize.minimize(negll, start, jac=lambda w: -(uy_q / (uy_q @ w)[:, None]).sum(0),
                                method="SLSQP", bounds=[(0, 1)] * K,
                                constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                                options={"ftol": 1e-15, "maxiter": 1000})
    if best is None or r.fun < best.fun:
        best = r
n = len(uy_q)
w_s = np.clip(best.x, 0, None) / np.clip(best.x, 0, None).sum()
print(f"scipy weights {np.round(w_s, 6)}, pdsim {w_pdsim}; "
      f"log score {negll(w_s) / n:.8f} (scipy), {stack_log:.7f} (pdsim)")
if np.max(np.abs(w_s - w_pdsim)) > 1e-4:
    fail("stacking weights differ from scipy's by more than 1e-4")
if abs(negll(w_s) / n - stack_log) > 1e-7:
    fail("stacked log score differs from scipy's")
# the weights over the configs' models alone (several configs)
if len(configs) > 1:
    Kc = len(configs)
    wc = np.array([float(x) for x in re.findall(r"^\[\d+\]\s+([0-9.]+) \(models only\)$", comp,
                                                re.M)])
    qc = uy_q[:, :Kc]
    best_c = None
    for start in [np.full(Kc, 1 / Kc)] + [rng.dirichlet(np.ones(Kc)) for _ in range(5)]:
        r = scipy.optimize.minimize(lambda w: -np.sum(np.log(qc @ w)), start,
                                    jac=lambda w: -(qc / (qc @ w)[:, None]).sum(0),
                                    method="SLSQP", bounds=[(0, 1)] * Kc,
                                    constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                                    options={"ftol": 1e-15, "maxiter": 1000})
        if best_c is None or r.fun < best_c.fun:
            best_c = r
    w_c = np.clip(best_c.x, 0, None) / np.clip(best_c.x, 0, None).sum()
    print(f"models-only weights: scipy {np.round(w_c, 6)}, pdsim {wc}")
    if len(wc) != Kc or np.max(np.abs(w_c - wc)) > 1e-4:
        fail("stacking weights over the configs' models differ from scipy's")
# pdsim's printed weights are at least as good as scipy's to rounding
if negll(w_pdsim / w_pdsim.sum()) / n > negll(w_s) / n + 1e-7:
    fail("pdsim's weights give a worse log score than scipy's")
if h5path:
    import h5py
    if len(configs) != 1:
        fail("RUN.h5 is checked against the backtest of one config")
    with h5py.File(h5path, "r") as f:
        bt = f["reliability/backtest"][()]
        setup = f["reliability/backtest_setup"][()]
    if (setup[0], setup[1]) != (cutoffs[0], cutoffs[-1]) or setup[3] != len(uy_q):
        fail(f"RUN.h5 backtest setup {setup}: origins {cutoffs[0]}..{cutoffs[-1]}, "
             f"{len(uy_q)} unit-years expected")
    worst = 0.0
    for k in range(K):
        pooled = (uy_sq[:, k].mean(), uy_log[:, k].mean(), uo_rps[:, k].mean())
        for s_ in range(3):
            worst = max(worst, abs(pooled[s_] - bt[k, s_]))
            if abs(pooled[s_] - bt[k, s_]) > 1e-10:
                fail(f"RUN.h5 forecaster {k} score {s_}: numpy {pooled[s_]!r}, pdsim {bt[k, s_]!r}")
        if k == 0:
            continue
        for s_, (x, g) in enumerate(((uy_sq, g_uy), (uy_log, g_uy), (uo_rps, g_uo))):
            m, se = clustered(x[:, 0] - x[:, k], g)
            for mine, theirs in ((m, bt[k, 3 + 2 * s_]), (se, bt[k, 4 + 2 * s_])):
                worst = max(worst, abs(mine - theirs))
                if abs(mine - theirs) > 1e-10:
                    fail(f"RUN.h5 forecaster {k} difference {s_}: statsmodels {mine!r}, "
                         f"pdsim {theirs!r}")
    if np.max(np.abs(w_s - bt[:, 9])) > 1e-4:
        fail(f"RUN.h5 stacking weights {bt[:, 9]}, scipy {w_s}")
    print(f"checked the run's reliability backtest in {h5path} (worst {worst:.1e})")
print("%d failed" % fails)
sys.exit(1 if fails else 0)
