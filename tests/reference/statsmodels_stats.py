"""Check the statistics of `pdsim fit` beyond coefficients and standard errors
against independent implementations, on the unit-year table pdsim exported.

usage: statsmodels_stats.py CASE DIR

DIR holds what `pdsim fit` wrote for the case: table.csv (--export-table),
tidy.csv, glance.csv, result.json, hazards.csv, and for some cases more.
Each check names its reference:

- statsmodels GLM (Binomial, the case's link), fitted by Newton with the
  observed information (method="newton"), or by IRLS for the expected
  information: log-likelihood, the intercept-only log-likelihood (a GLM on
  a column of ones), Wald intervals (conf_int), HC0 and cluster
  covariances (cov_type=...), fitted hazards (predict). HC1 is statsmodels'
  HC0 covariance times n/(n-k) (R sandwich's HC1): statsmodels 0.13 applies
  no correction for GLM under cov_type="HC1" (its HC1 equals its HC0);
- scipy.stats.chi2.sf for the LR test p-values; AIC and BIC from
  statsmodels' llf as -2 llf + 2k and -2 llf + k log n;
- statsmodels Logit(...).get_margeff(at="overall") for logit average
  marginal effects; for cloglog, numpy: the AME by its definition and its
  delta-method SE with a central-difference Jacobian;
- profile-likelihood intervals: an independent profile: for each
  coefficient fixed at b, the others maximized by scipy.optimize.minimize
  from the estimate: BFGS with the analytic gradient of the log-likelihood
  written out in numpy (plain fits), or for Firth BFGS then Nelder-Mead
  on the penalized log-likelihood LL + 0.5 log det I; the bounds where
  2 (max - profile) = chi2.ppf(level, 1) found by scipy's brentq.

Tolerances: 1e-6 relative for quantities computed from the same optimum
(statsmodels agrees with pdsim to about 1e-10 there); 1e-5 for the profile
bounds (the scipy inner optimizations are good to about 1e-8 in the
objective, which moves a bound by about 1e-6 of its distance to the
estimate); 1e-5 for the cloglog AME SEs (finite differences, step 1e-6).
Exit 0 when everything agrees, 1 otherwise.
"""
import csv
import json
import math
import sys

import numpy as np
import scipy.optimize as so
import scipy.stats as ss
import statsmodels.api as sm

BROOM_TIDY = ["term", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high"]
BROOM_GLANCE = ["null.deviance", "df.null", "logLik", "AIC", "BIC", "deviance", "df.residual",
                "nobs"]

failures = []


def close(what, got, want, rel, absolute=0.0):
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    err = np.abs(got - want)
    ok = np.all(err <= rel * np.abs(want) + absolute)
    worst = float(np.max(err / np.maximum(np.abs(want), 1e-300))) if err.size else 0.0
    print(f"  {'ok ' if ok else 'BAD'} {what}: max relative difference {worst:.2e}")
    if not ok:
        failures.append(what)
        print(f"      pdsim     {np.array2string(got, precision=12)}")
        print(f"      reference {np.array2string(want, precision=12)}")


def read_table(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert len(set(head)) == len(head), f"duplicate column names in {path}: {head}"
    body = rows[1:]
    unit = [r[0] for r in body]
    year = np.array([int(r[1]) for r in body])
    y = np.array([float(r[2]) for r in body])
    X = np.column_stack([np.ones(len(y))] + [[float(r[k]) for r in body]
                                              for k in range(3, len(head))])
    return head, unit, year, y, X


def load_tidy(path):
    """The tidy file through pandas when /usr/bin/python3 has it, else csv."""
    try:
        import pandas as pd
        df = pd.read_csv(path)
        cols = list(df.columns)
        rows = df.to_dict("records")
        how = f"pandas {pd.__version__}"
    except ImportError:
        with open(path, newline="", encoding="utf-8") as f:
            rd = csv.DictReader(f)
            cols = rd.fieldnames
            rows = [{k: (float(v) if v not in ("",) and k not in ("model", "term", "conf.method")
                         else (math.nan if v == "" else v)) for k, v in r.items()} for r in rd]
        how = "the csv module"
    missing = [c for c in BROOM_TIDY if c not in cols]
    print(f"  {'ok ' if not missing else 'BAD'} tidy file read with {how}; broom columns present")
    if missing:
        failures.append("tidy columns")
    return rows


def family(link):
    lk = sm.families.links.logit() if link == "logit" else sm.families.links.cloglog()
    return sm.families.Binomial(link=lk)


def mu_of(link, eta):
    if link == "logit":
        return 1.0 / (1.0 + np.exp(-eta))
    return -np.expm1(-np.exp(eta))


def loglik(link, y, X, b):
    eta = X @ b
    if link == "logit":
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    e = np.exp(np.minimum(eta, 700.0))
    with np.errstate(divide="ignore"):
        l1 = np.where(e < 1e-10, eta - e / 2, np.log(-np.expm1(-e)))
    return float(np.sum(np.where(y == 1, l1, -e)))


def score_eta(link, y, eta):
    """d loglik / d eta per row."""
    if link == "logit":
        return y - 1.0 / (1.0 + np.exp(-eta))
    e = np.exp(np.minimum(eta, 700.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(e < 1e-10, 1.0 - e / 2, e * np.exp(-e) / -np.expm1(-e))
    return np.where(y == 1, s1, -e)


def fisher_logdet(link, X, b):
    eta = X @ b
    if link == "logit":
        mu = mu_of(link, eta)
        w = mu * (1 - mu)
    else:
        e = np.exp(eta)
        mu = -np.expm1(-e)
        w = e * e * np.exp(-e) / mu
    return np.linalg.slogdet(X.T @ (w[:, None] * X))[1]


def profile_ci(link, y, X, bhat, se, level, firth):
    """Independent profile-likelihood interval of every coefficient."""
    def obj(b):
        v = loglik(link, y, X, b)
        return v + 0.5 * fisher_logdet(link, X, b) if firth else v

    if not firth:
        top = sm.GLM(y, X, family=family(link)).fit(method="newton", tol=1e-14, maxiter=200).llf
    else:
        top = obj(bhat)
    q = ss.chi2.ppf(level, 1)
    p = len(bhat)
    out = []
    for j in range(p):
        free = [k for k in range(p) if k != j]
        start = {"x": bhat[free].copy()}

        def prof(bj):
            if not firth:
                off = X[:, j] * bj
                Xf = X[:, free]

                def nll(t):
                    return -loglik(link, y, np.column_stack([Xf, off]), np.append(t, 1.0))

                def ngrad(t):
                    return -(Xf.T @ score_eta(link, y, Xf @ t + off))
                r = so.minimize(nll, bhat[free], jac=ngrad, method="BFGS",
                                options={"gtol": 1e-9, "maxiter": 10000})
                return -r.fun

            def neg(t):
                b = bhat.copy()
                b[free] = t
                b[j] = bj
                return -obj(b)
            r = so.minimize(neg, bhat[free], method="BFGS", options={"gtol": 1e-10})
            r = so.minimize(neg, r.x, method="Nelder-Mead",
                            options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000})
            return -r.fun

        def g(bj):
            return 2 * (top - prof(bj)) - q

        bounds = []
        for side in (-1, 1):
            start["x"] = bhat[free].copy()
            # step out by half Wald half-widths until the deviance passes q,
            # so that the bracket holds the nearest crossing
            near, far = bhat[j], bhat[j] + side * 0.5 * math.sqrt(q) * se[j]
            while not g(far) > 0:
                near, far = far, far + side * 0.5 * math.sqrt(q) * se[j]
            start["x"] = bhat[free].copy()
            bounds.append(so.brentq(g, near, far, xtol=1e-12, rtol=1e-12))
        out.append(bounds)
    return np.array(out)


def ame_reference(link, X, b, cov):
    def ame(bb):
        eta = X @ bb
        h = 1e-6
        d1 = (mu_of(link, eta + h) - mu_of(link, eta - h)) / (2 * h)
        return d1.mean() * bb
    a = ame(b)
    J = np.empty((len(b), len(b)))
    for k in range(len(b)):
        e = np.zeros(len(b))
        e[k] = 1e-6 * max(1.0, abs(b[k]))
        J[:, k] = (ame(b + e) - ame(b - e)) / (2 * e[k])
    return a, np.sqrt(np.diag(J @ cov @ J.T))


def main():
    case, d = sys.argv[1], sys.argv[2]
    cfg = json.load(open(f"{d}/case.json", encoding="utf-8"))
    link, level = cfg["link"], cfg.get("level", 0.95)
    head, unit, year, y, X = read_table(f"{d}/table.csv")
    n, k = X.shape
    res = json.load(open(f"{d}/result.json", encoding="utf-8"))
    m = res["models"][0]
    gl = m["glance"]
    beta = np.array([t["estimate"] for t in m["tidy"]])
    se = np.array([t["std.error"] for t in m["tidy"]])
    cov = np.array(m["vcov"], dtype=float)
    print(f"{case}: {link}, {n} rows, {int(y.sum())} events, {k} parameters")

    if cfg.get("firth"):
        ci = profile_ci(link, y, X, beta, se, level, True)
        close("Firth profile-likelihood intervals (scipy profile of LL + 0.5 log det I)",
              [[t["profile.conf.low"], t["profile.conf.high"]] for t in m["tidy"]], ci, 1e-5)
        return

    info = cfg.get("information", "observed")
    method = "irls" if info == "expected" else "newton"
    vcov = cfg.get("vcov", "model")
    kw = {}
    if vcov in ("HC0", "HC1"):
        kw = {"cov_type": "HC0"}
    elif vcov == "cluster":
        by = cfg["cluster"]
        keys = {"unit": unit, "year": year}.get(by)
        if keys is None:
            keys = X[:, head.index(by) - 2]
        groups = np.unique(np.asarray(keys).astype(str), return_inverse=True)[1]
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
        close("number of clusters", gl["n.clusters"], len(np.unique(groups)), 0)
    fit = sm.GLM(y, X, family=family(link)).fit(method=method, tol=1e-14, maxiter=200, **kw)
    ref_cov = fit.cov_params() * (n / (n - k) if vcov == "HC1" else 1.0)
    ref_se = np.sqrt(np.diag(ref_cov))
    zq = ss.norm.ppf(0.5 + level / 2)
    if vcov == "HC1":
        ref_ci = np.column_stack([fit.params - zq * ref_se, fit.params + zq * ref_se])
        ref_z = fit.params / ref_se
        ref_p = 2 * ss.norm.sf(np.abs(ref_z))
    else:
        ref_ci = fit.conf_int(alpha=1 - level)
        ref_z, ref_p = fit.tvalues, fit.pvalues
    null = sm.GLM(y, np.ones((n, 1)), family=family(link)).fit(method="newton", tol=1e-14)
    close("coefficients (statsmodels GLM)", beta, fit.params, 1e-6)
    close(f"standard errors ({info} information, {vcov} covariance; statsmodels)", se, ref_se,
          1e-6)
    close("log-likelihood (statsmodels llf)", gl["logLik"], fit.llf, 1e-9)
    close("null log-likelihood (statsmodels GLM on a constant)", gl["logLik.null"], null.llf, 1e-9)
    lr = 2 * (fit.llf - null.llf)
    close("LR chi2 against the null model", gl["lr.statistic"], lr, 1e-8)
    close("LR p-value (scipy chi2.sf)", gl["lr.p.value"], ss.chi2.sf(lr, k - 1), 1e-8)
    close("null.deviance, deviance", [gl["null.deviance"], gl["deviance"]],
          [-2 * null.llf, -2 * fit.llf], 1e-9)
    close("AIC, BIC from statsmodels llf", [gl["AIC"], gl["BIC"]],
          [-2 * fit.llf + 2 * k, -2 * fit.llf + k * math.log(n)], 1e-9)
    close("nobs, df.null, df.residual", [gl["nobs"], gl["df.null"], gl["df.residual"]],
          [n, n - 1, n - k], 0)
    close(f"Wald {level:g} intervals (statsmodels conf_int)",
          [[t["wald.conf.low"], t["wald.conf.high"]] for t in m["tidy"]], ref_ci, 1e-6)
    close("z and p-values (statsmodels tvalues, pvalues)",
          [[t["statistic"], t["p.value"]] for t in m["tidy"]],
          np.column_stack([ref_z, ref_p]), 1e-6, 1e-300)

    # hazards per unit-year
    with open(f"{d}/hazards.csv", newline="", encoding="utf-8") as f:
        hz = [r for r in csv.DictReader(f) if r["model"] == m["model"]]
    close("fitted hazards (statsmodels predict)", [float(r["hazard"]) for r in hz],
          fit.predict(), 1e-6)
    close("SE of the linear predictor (sqrt diag X cov X')",
          [float(r["linear.predictor.std.error"]) for r in hz],
          np.sqrt(np.einsum("ij,jk,ik->i", X, ref_cov, X)), 1e-6)

    if cfg.get("ame"):
        if link == "logit" and vcov == "model":
            me = sm.Logit(y, X).fit(disp=0, method="newton", tol=1e-14).get_margeff(at="overall")
            ref, ref_ame_se = me.margeff, me.margeff_se
            how = "statsmodels Logit get_margeff"
        else:
            ref, ame_se = ame_reference(link, X, fit.params, ref_cov)
            ref, ref_ame_se = ref[1:], ame_se[1:]
            how = "numpy definition, central-difference delta method"
        close(f"average marginal effects ({how})", [t["ame"] for t in m["tidy"][1:]], ref, 1e-6)
        close(f"AME standard errors ({how})", [t["ame.std.error"] for t in m["tidy"][1:]],
              ref_ame_se, 1e-5)

    if cfg.get("profile"):
        pci = profile_ci(link, y, X, fit.params, ref_se, level, False)
        close("profile-likelihood intervals (scipy profile)",
              [[t["profile.conf.low"], t["profile.conf.high"]] for t in m["tidy"]], pci, 1e-5)

    if cfg.get("lrtest"):
        # the second model is the first plus columns; its table is table2.csv
        h2, _, _, y2, X2 = read_table(f"{d}/table2.csv")
        f2 = sm.GLM(y2, X2, family=family(link)).fit(method="newton", tol=1e-14, maxiter=200)
        t = res["lrtests"][0]
        stat = 2 * (f2.llf - fit.llf)
        close("LR test of nested models (statsmodels llf, scipy chi2.sf)",
              [t["statistic"], t["df"], t["p.value"]],
              [stat, X2.shape[1] - k, ss.chi2.sf(stat, X2.shape[1] - k)], 1e-8)

    rows = load_tidy(f"{d}/tidy.csv")
    close("tidy estimates and SEs as in the JSON", [[r["estimate"], r["std.error"]] for r in rows
                                                    if r["model"] == m["model"]],
          np.column_stack([beta, se]), 1e-13, 1e-14)  # absolute: a coefficient near 0
    with open(f"{d}/glance.csv", newline="", encoding="utf-8") as f:
        g = list(csv.DictReader(f))
    missing = [c for c in BROOM_GLANCE if c not in g[0]]
    print(f"  {'ok ' if not missing else 'BAD'} glance file has broom's glance names")
    if missing:
        failures.append("glance columns")


if __name__ == "__main__":
    main()
    if failures:
        print("FAILED: " + "; ".join(failures))
    sys.exit(1 if failures else 0)
