"""Compare `pdsim fit` with statsmodels on the same unit-year table.

usage: statsmodels_fit.py TABLE.csv MODEL.yaml LINK [--robust]

TABLE.csv is written by `pdsim fit --export-table`, MODEL.yaml by `pdsim fit -o`.
Coefficients and standard errors must agree to 1e-6 relative. Exit 0 when
they do, 1 when they do not.
"""
import re
import sys

import numpy as np
import statsmodels.api as sm


def read_model(path):
    text = open(path, encoding="utf-8").read()
    pairs = re.findall(r"coef: ([-0-9.eE+]+), se: ([-0-9.eE+]+)", text)
    return np.array([[float(c), float(s)] for c, s in pairs])


def main():
    table, model, link = sys.argv[1], sys.argv[2], sys.argv[3]
    robust = "--robust" in sys.argv[4:]
    data = np.genfromtxt(table, delimiter=",", names=True, dtype=None, encoding="utf-8")
    names = data.dtype.names
    y = data["adopted"].astype(float)
    X = np.column_stack([np.ones(len(y))] + [data[n].astype(float) for n in names[3:]])
    groups = np.unique(data["unit"].astype(str), return_inverse=True)[1]
    if link == "logit":
        family = sm.families.Binomial(link=sm.families.links.logit())
    else:
        family = sm.families.Binomial(link=sm.families.links.cloglog())
    # Newton's method with the observed information, as pdsim does (IRLS would
    # report the expected information, which differs for cloglog)
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if robust else {}
    res = sm.GLM(y, X, family=family).fit(method="newton", tol=1e-14, maxiter=200, **kw)
    ours = read_model(model)
    ref = np.column_stack([res.params, res.bse])
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300)
    worst = rel.max()
    print(f"{table}: {link}{' robust' if robust else ''}: {len(y)} rows, {int(y.sum())} events, "
          f"max relative difference {worst:.2e} (coef and SE of {X.shape[1]} parameters)")
    for (c, s), (rc, rs) in zip(ours, ref):
        print(f"  pdsim {c: .10g} ({s:.10g})   statsmodels {rc: .10g} ({rs:.10g})")
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
