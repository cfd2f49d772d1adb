"""The sub-unit (city) model's coefficient uncertainty reaches the simulated
cities, checked exactly on the first simulated year.

    subunit_draws.py RUN.h5 CITY_MODEL.yaml DOCUMENTS.csv

1. The per-run coefficients in /runs/subunit_coefficients are draws of
   N(estimate, covariance) of the model file: their mean within 4 Monte
   Carlo SEs of the estimate, their covariance within 4 SEs (normal theory:
   Var(s_ij) = (s_ii s_jj + s_ij^2) / (n - 1)) of the file's.
2. Each city not adopted by the base year adopts in the first simulated year
   with the hazard logit^-1(b0 + b_doc D + b_par a + b_sib pct) under ITS
   run's coefficients, with a the province adopted by the base year, pct the
   share of the province's other cities adopted at the end of the base year
   and D the documents through the base year (lag 1). Grouping the
   city-runs in deciles of that exact hazard, the observed frequency in each
   decile is within 4 SEs of the mean exact hazard (a simulation that
   ignored the drawn coefficients would be flat across the deciles).
"""
import csv
import sys

import h5py
import numpy as np

run, model_path, docs_path = sys.argv[1:4]
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL " + msg)


def read_model(path):
    """coef vector and covariance of the city model (the simple YAML the
    calibration writes: intercept, terms, covariance rows)."""
    import re
    text = open(path, encoding="utf-8").read()
    coef = [float(re.search(r"intercept: \{coef: ([-0-9.e]+)", text).group(1))]
    kinds = []
    for m in re.finditer(r"dynamic: (\w+), coef: ([-0-9.e]+)", text):
        kinds.append(m.group(1))
        coef.append(float(m.group(2)))
    rows = re.findall(r"^  - \[([^\]]*)\]", text, re.M)
    cov = np.array([[float(x) for x in r.split(",")] for r in rows])
    return np.array(coef), cov, kinds


mean, cov, kinds = read_model(model_path)
with h5py.File(run, "r") as f:
    beta = f["runs/subunit_coefficients"][()]
    base = int(f.attrs["base_year"])
    cy = f["runs/city_adoption_year"][()]
    py = f["runs/province_adoption_year"][()]
    city_prov = [x.decode() for x in f["cities/province_code"][()]]
    prov = [x.decode() for x in f["provinces/code"][()]]
n = len(beta)
# 1. the draws
se_mean = np.sqrt(np.diag(cov) / n)
z = (beta.mean(0) - mean) / se_mean
print("mean z of the drawn coefficients:", np.round(z, 2))
if np.max(np.abs(z)) > 4:
    fail("drawn coefficients' mean differs from the model's estimate")
S = np.cov(beta.T)
d = np.sqrt(np.diag(cov))
se_cov = np.sqrt((np.outer(d ** 2, d ** 2) + cov ** 2) / (n - 1))
zc = (S - cov) / se_cov
print("largest |z| of the drawn covariance:", round(float(np.max(np.abs(zc))), 2))
if np.max(np.abs(zc)) > 4:
    fail("drawn coefficients' covariance differs from the model's")
# 2. first simulated year
D = 0.0
with open(docs_path, newline="", encoding="utf-8") as fh:
    for r in csv.DictReader(fh):
        if int(r["year"]) <= base:
            D += float(r["count"]) * float(r["weight"])
pidx = {c: i for i, c in enumerate(prov)}
cp = np.array([pidx[c] for c in city_prov])
adopted0 = (cy != 0) & (cy <= base)            # -1 (undated, before) counts too
n_of = np.bincount(cp, minlength=len(prov))
cnt = np.zeros((n, len(prov)))
for p in range(len(prov)):
    cnt[:, p] = adopted0[:, cp == p].sum(1)
a = ((py != 0) & (py <= base)).astype(float)   # [runs x provinces]
H, Y = [], []
for c in range(cy.shape[1]):
    at_risk = ~adopted0[:, c]
    if not at_risk.any():
        continue
    p = cp[c]
    pct = np.where(n_of[p] > 1, 100.0 * cnt[:, p] / max(n_of[p] - 1, 1), 0.0)
    eta = beta[:, 0].copy()
    for j, k in enumerate(kinds):
        x = {"central_documents": D, "parent_adopted": a[:, p],
             "siblings_adopted_pct": pct}[k]
        eta += beta[:, j + 1] * x
    h = 1 / (1 + np.exp(-eta))
    H.append(h[at_risk])
    Y.append((cy[at_risk, c] == base + 1).astype(float))
H, Y = np.concatenate(H), np.concatenate(Y)
edges = np.quantile(H, np.linspace(0, 1, 11))
worst = 0.0
for i in range(10):
    sel = (H >= edges[i]) & (H <= edges[i + 1]) if i == 9 else (H >= edges[i]) & (H < edges[i + 1])
    exp_, obs = H[sel].mean(), Y[sel].mean()
    se = np.sqrt((H[sel] * (1 - H[sel])).sum()) / sel.sum()
    zz = (obs - exp_) / se
    worst = max(worst, abs(zz))
    print("decile %d: %7d city-runs, exact hazard %.4f, observed %.4f, z %+.2f"
          % (i + 1, sel.sum(), exp_, obs, zz))
if worst > 4:
    fail("first-year city adoptions do not follow the runs' drawn coefficients")
if edges[-1] / max(edges[0], 1e-12) < 2:
    fail("the drawn coefficients hardly vary the hazard: the check has no power")
print("%d failed" % fails)
sys.exit(1 if fails else 0)
