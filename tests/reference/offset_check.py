"""Fixed coefficients and offsets in `pdsim fit`, against statsmodels.

usage: offset_check.py TABLE.csv TIDY.csv GLANCE.csv LINK [--robust]

TABLE.csv is `pdsim fit --export-table` (every term a column, the fixed ones
too), TIDY.csv and GLANCE.csv are `--tidy` and `--glance` of the same fit.
The reference is statsmodels' GLM fitted by Newton's method on the free
columns, with offset = sum of the fixed columns times their held values
(the rows of TIDY.csv whose conf.method is "fixed"). Compared: estimates and
standard errors of the free terms (1e-6 relative), the held values written
back unchanged with std.error 0, the log-likelihood, the null
log-likelihood (the intercept-only model with the same offset, by
statsmodels' GLM and by a scipy maximisation), AIC and the residual degrees of freedom (1e-8). Exit 0 when
all agree, 1 otherwise.
"""
import csv
import sys

import numpy as np
import statsmodels.api as sm
from scipy import optimize


def main():
    table, tidy, glance, link = sys.argv[1:5]
    robust = "--robust" in sys.argv[5:]
    data = np.genfromtxt(table, delimiter=",", names=True, dtype=None, encoding="utf-8")
    names = data.dtype.names[3:]
    y = data["adopted"].astype(float)
    rows = list(csv.DictReader(open(tidy, encoding="utf-8")))
    g = next(csv.DictReader(open(glance, encoding="utf-8")))
    fixed = {r["term"]: float(r["estimate"]) for r in rows if r["conf.method"] == "fixed"}
    free = [n for n in names if n not in fixed]
    if not fixed:
        print("FAIL no fixed term in " + tidy)
        return 1
    X = np.column_stack([np.ones(len(y))] + [data[n].astype(float) for n in free])
    offset = sum(v * data[n].astype(float) for n, v in fixed.items())
    lk = sm.families.links.logit() if link == "logit" else sm.families.links.cloglog()
    groups = np.unique(data["unit"].astype(str), return_inverse=True)[1]
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if robust else {}
    res = sm.GLM(y, X, family=sm.families.Binomial(link=lk), offset=offset).fit(
        method="newton", tol=1e-14, maxiter=200, **kw)
    bad = 0
    by_term = {r["term"]: r for r in rows}
    worst = 0.0
    for j, n in enumerate(["(Intercept)"] + free):
        r = by_term[n]
        for ours, ref in ((float(r["estimate"]), res.params[j]), (float(r["std.error"]), res.bse[j])):
            rel = abs(ours - ref) / max(abs(ref), 1e-300)
            worst = max(worst, rel)
            if not rel <= 1e-6:
                print(f"FAIL {n}: pdsim {ours!r} statsmodels {ref!r}")
                bad += 1
    for n, v in fixed.items():
        if float(by_term[n]["std.error"]) != 0.0 or by_term[n]["statistic"] != "":
            print(f"FAIL fixed {n}: std.error {by_term[n]['std.error']}, statistic "
                  f"{by_term[n]['statistic']!r} (expected 0 and empty)")
            bad += 1
    # the null model once more, by scipy: the intercept maximising the
    # likelihood with the offset in place
    def null_ll(a):
        eta = a + offset
        if link == "logit":
            return float(np.sum(-np.logaddexp(0.0, np.where(y == 1, -eta, eta))))
        e = np.exp(eta)
        return float(np.sum(np.where(y == 1, np.log(-np.expm1(-e)), -e)))

    a0 = optimize.minimize_scalar(lambda a: -null_ll(a), bounds=(-60.0, 60.0),
                                  method="bounded", options={"xatol": 1e-10}).x
    # and statsmodels' own intercept-only GLM with the offset, by Newton
    # from half a unit away (its default start diverges with large offsets)
    null = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(link=lk),
                  offset=offset).fit(method="newton", start_params=[a0 + 0.5], tol=1e-14,
                                     maxiter=200)
    for key, ref in (("logLik", res.llf), ("logLik.null", null.llf),
                     ("logLik.null", null_ll(a0)), ("AIC", res.aic),
                     ("df.residual", res.df_resid)):
        ours = float(g[key])
        rel = abs(ours - ref) / max(abs(ref), 1.0)
        if not rel <= 1e-8:
            print(f"FAIL {key}: pdsim {ours!r} statsmodels {ref!r}")
            bad += 1
    print(f"{tidy}: {link}{' robust' if robust else ''}: {len(fixed)} fixed, {len(free) + 1} "
          f"estimated; max relative difference {worst:.2e}; logLik {res.llf:.6f}, null "
          f"{null.llf:.6f} (statsmodels), {null_ll(a0):.6f} (scipy)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
