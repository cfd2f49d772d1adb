"""Independent checks of `pdsim fit --prior` with numpy, from the files pdsim
writes (the unit-year table, the fitted model, the draws CSV):

  bayes_check.py mode TABLE.csv OUT.yaml PRIOR.yaml|flat K DEFAULT_SD
      the prior rebuilt from the prior model file; the posterior mode by
      Newton in numpy and the Laplace covariance (inverse negative Hessian)
      against coef and covariance of OUT.yaml (1e-6); then the posterior mean
      and sd by importance sampling from a widened Laplace normal against
      posterior.mean / posterior.sd, within 4 Monte Carlo standard errors
      (pdsim's from its bulk ESS, the importance sampler's from its weights).
  bayes_check.py diag DRAWS.csv OUT.yaml
      mean, sd, 5/50/95% quantiles, rank-normalised split R-hat and bulk ESS
      recomputed from the draws (autocovariances by FFT) against the
      posterior block (1e-8 relative).
  bayes_check.py close A.yaml B.yaml TOL
      every coefficient of A within TOL x its se of B's.
  bayes_check.py at_prior OUT.yaml PRIOR.yaml TOL
      every coefficient of OUT within TOL (relative) of the prior model's.
  bayes_check.py runs RUN.h5 DRAWS.csv
      uncertainty: posterior: /runs/posterior_draw is floor(u n_draws) with u
      the first uniform of each run's coefficient stream (PCG32 and the
      SplitMix64 keying rewritten here from docs), and each row of
      /runs/coefficients equals that row of the draws file (exactly).
  bayes_check.py same A.h5 B.h5
      the /runs datasets and the summaries of two files are identical.
  bayes_check.py pair BASE.h5 SCENARIO.h5
      a scenario and its baseline used the same posterior draw and the same
      coefficients in every run, and the scenario changed some runs.
"""
import sys

import numpy as np
import yaml
from scipy import stats


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def coefs(m):
    return np.array([m["intercept"]["coef"]] + [t["coef"] for t in m["terms"]])


def ses(m):
    return np.array([m["intercept"].get("se", 0)] + [t.get("se", 0) for t in m["terms"]])


def quantity(t):
    if "dynamic" in t:
        return ("dynamic", t["dynamic"])
    return ("variable", t["variable"], t.get("transform", "none"))


def build_prior(spec, prior_path, k, default_sd):
    """mean, precision of the Gaussian prior, as docs/fit.md describes it."""
    p = len(spec["terms"]) + 1
    if prior_path == "flat":
        return np.zeros(p), np.zeros((p, p))
    pm = load(prior_path)
    pterms = pm["terms"]
    idx = [0]
    for t in spec["terms"]:
        hit = [i for i, q in enumerate(pterms) if q["name"] == t["name"]]
        if not hit:
            hit = [i for i, q in enumerate(pterms) if quantity(q) == quantity(t)]
        idx.append(hit[0] + 1 if hit else -1)
    pmean, pse = coefs(pm), ses(pm)
    pcov = np.array(pm["covariance"], float) if "covariance" in pm else np.diag(pse**2)
    mean = np.zeros(p)
    cov = np.zeros((p, p))
    for a in range(p):
        if idx[a] < 0:
            cov[a, a] = default_sd**2
            continue
        mean[a] = pmean[idx[a]]
        for b in range(p):
            if idx[b] >= 0:
                cov[a, b] = pcov[idx[a], idx[b]] * k * k
    return mean, np.linalg.inv(cov)


def design(table, spec):
    import csv
    with open(table, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # a term named like a fixed column of the table gets the suffix _term
    names = [t["name"] + ("_term" if t["name"] in ("unit", "year", "adopted") else "")
             for t in spec["terms"]]
    X = np.array([[1.0] + [float(r[n]) for n in names] for r in rows])
    y = np.array([float(r["adopted"]) for r in rows])
    return X, y


def logpost(B, X, y, mean, prec):
    """log posterior (logit) at each row of B, up to a constant."""
    eta = B @ X.T
    ll = (y * eta - np.logaddexp(0.0, eta)).sum(axis=1)
    d = B - mean
    return ll - 0.5 * np.einsum("ij,jk,ik->i", d, prec, d)


def check_mode(table, out, prior_path, k, default_sd):
    m = load(out)
    spec = m
    mean, prec = build_prior(spec, prior_path, float(k), float(default_sd))
    X, y = design(table, spec)
    b = np.zeros(X.shape[1])
    for _ in range(100):
        mu = 1.0 / (1.0 + np.exp(-(X @ b)))
        g = X.T @ (y - mu) - prec @ (b - mean)
        H = (X * (mu * (1 - mu))[:, None]).T @ X + prec
        step = np.linalg.solve(H, g)
        b = b + step
        if np.abs(step).max() < 1e-13:
            break
    mu = 1.0 / (1.0 + np.exp(-(X @ b)))
    H = (X * (mu * (1 - mu))[:, None]).T @ X + prec
    cov = np.linalg.inv(H)
    se = np.sqrt(np.diag(cov))
    got = coefs(m)
    gcov = np.array(m["covariance"], float)
    bad = 0
    dm = np.abs(got - b) / se
    dc = np.abs(gcov - cov).max() / np.abs(cov).max()
    print("mode: max |pdsim - numpy| / se = %.3g; covariance: max rel. diff %.3g" % (dm.max(), dc))
    if dm.max() > 1e-6 or dc > 1e-6:
        print("FAIL: the posterior mode or the Laplace covariance differs")
        bad = 1
    post = m.get("posterior")
    if post is None:
        print("FAIL: no posterior block")
        return 1
    # importance sampling from the Laplace normal widened by 1.5 (heavier
    # tails than the posterior), in blocks
    rng = np.random.default_rng(20240531)
    L = np.linalg.cholesky(cov) * 1.5
    sw = swx = swx2 = sw2 = 0.0
    sw2x = sw2x2 = sw2xx = 0.0
    n_total = 0
    W, WX, WX2 = [], [], []
    lp_mode = logpost(b[None, :], X, y, mean, prec)[0]
    for _ in range(20):
        z = rng.standard_normal((20000, len(b)))
        B = b + z @ L.T
        logq = -0.5 * (z**2).sum(axis=1)  # up to a constant
        lw = logpost(B, X, y, mean, prec) - lp_mode - logq
        w = np.exp(lw)
        W.append(w)
        WX.append(w[:, None] * B)
        WX2.append(w[:, None] * B**2)
        n_total += len(w)
    w = np.concatenate(W)
    wx = np.concatenate(WX)
    wx2 = np.concatenate(WX2)
    S = w.sum()
    m1 = wx.sum(axis=0) / S
    m2 = wx2.sum(axis=0) / S
    sd = np.sqrt(m2 - m1**2)
    # delta-method standard errors of the self-normalised estimates
    n = len(w)
    wn = w / S
    se_m1 = np.sqrt((wn[:, None] ** 2 * (np.concatenate(WX) / w[:, None] - m1) ** 2).sum(axis=0))
    Bfull = wx / w[:, None]
    v = (Bfull - m1) ** 2
    se_var = np.sqrt((wn[:, None] ** 2 * (v - sd**2) ** 2).sum(axis=0))
    se_sd = se_var / (2 * sd)
    ess_is = S**2 / (w**2).sum()
    pm, psd, pess = np.array(post["mean"]), np.array(post["sd"]), np.array(post["ess"])
    # pdsim's Monte Carlo error: sd / sqrt(ESS) for the mean, sd / sqrt(2 ESS) for the sd
    pess = np.minimum(pess, chains_draws(post))
    tol_m = 4 * np.sqrt(psd**2 / pess + se_m1**2)
    tol_s = 4 * np.sqrt(psd**2 / (2 * pess) + se_sd**2)
    print("importance sampling: %d draws, ESS of the weights %.0f" % (n, ess_is))
    names = ["(Intercept)"] + [t["name"] for t in m["terms"]]
    for j, nm in enumerate(names):
        ok = abs(pm[j] - m1[j]) <= tol_m[j] and abs(psd[j] - sd[j]) <= tol_s[j]
        print("  %-20s mean %.5f vs %.5f (tol %.2g)  sd %.5f vs %.5f (tol %.2g)  %s"
              % (nm, pm[j], m1[j], tol_m[j], psd[j], sd[j], tol_s[j], "ok" if ok else "FAIL"))
        bad |= not ok
    return bad


def chains_draws(post):
    """the number of draws: ESS above it (antithetic chains) is not relied on"""
    return post["chains"] * post["draws"]


def z_scale(a):
    r = stats.rankdata(a, method="average").reshape(a.shape)
    return stats.norm.ppf((r - 0.375) / (a.size + 0.25))


def split(a):
    h = a.shape[1] // 2
    return np.concatenate([a[:, :h], a[:, -h:]], axis=0)


def rhat(a):
    m, n = a.shape
    B = n * np.var(a.mean(axis=1), ddof=1)
    W = np.mean(np.var(a, axis=1, ddof=1))
    return np.sqrt((B / W + n - 1) / n)


def autocov(a):
    """biased autocovariances of each row, by FFT"""
    m, n = a.shape
    x = a - a.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size, axis=1)
    return np.fft.irfft(f * np.conj(f), size, axis=1)[:, :n] / n


def ess(a):
    m, n = a.shape
    acov = autocov(a)
    mean_var = acov[:, 0].mean() * n / (n - 1)
    var_plus = mean_var * (n - 1) / n + np.var(a.mean(axis=1), ddof=1)
    rho = np.zeros(n)
    rho[0] = 1.0
    even, odd = 1.0, 1.0 - (mean_var - acov[:, 1].mean()) / var_plus
    rho[1] = odd
    t = 1
    while t < n - 3 and even + odd > 0:
        even = 1.0 - (mean_var - acov[:, t + 1].mean()) / var_plus
        odd = 1.0 - (mean_var - acov[:, t + 2].mean()) / var_plus
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2
        t += 2
    S = m * n
    tau = -1 + 2 * rho[: max_t + 1].sum() + rho[max_t + 1 : max_t + 2].sum()
    return S / max(tau, 1 / np.log10(S))


def check_diag(draws_csv, out):
    m = load(out)
    post = m["posterior"]
    d = np.genfromtxt(draws_csv, delimiter=",", names=True, deletechars="")
    names = ["(Intercept)"] + [t["name"] for t in m["terms"]]
    chains, n = post["chains"], post["draws"]
    bad = 0
    ch = d["chain"].astype(int)
    if sorted(set(ch)) != list(range(1, chains + 1)) or len(d) != chains * n:
        print("FAIL: the draws file does not hold %d chains of %d draws" % (chains, n))
        return 1
    for j, nm in enumerate(names):
        x = d[nm].reshape(chains, n)  # rows in chain order
        sp = split(x)
        folded = np.abs(sp - np.median(sp))
        want = {
            "mean": x.mean(),
            "sd": x.std(ddof=1),
            "q05": np.quantile(x, 0.05),
            "q50": np.quantile(x, 0.50),
            "q95": np.quantile(x, 0.95),
            "rhat": max(rhat(z_scale(sp)), rhat(z_scale(folded))),
            "ess": ess(z_scale(sp)),
        }
        for key, v in want.items():
            g = post[key][j]
            if not abs(g - v) <= 1e-8 * max(1.0, abs(v)):
                print("FAIL %s %s: pdsim %.12g, numpy %.12g" % (nm, key, g, v))
                bad = 1
        print("  %-20s R-hat %.5f (numpy %.5f), ESS %.1f (numpy %.1f)"
              % (nm, post["rhat"][j], want["rhat"], post["ess"][j], want["ess"]))
    return bad


def check_close(a, b, tol):
    A, B = load(a), load(b)
    d = np.abs(coefs(A) - coefs(B)) / ses(B)
    print("max |a - b| / se = %.3g (tolerance %s)" % (d.max(), tol))
    return int(not d.max() <= float(tol))


def check_at_prior(out, prior, tol):
    A, P = load(out), load(prior)
    d = np.abs(coefs(A) - coefs(P)) / np.maximum(1.0, np.abs(coefs(P)))
    print("max relative |mode - prior mean| = %.3g (tolerance %s)" % (d.max(), tol))
    return int(not d.max() <= float(tol))


M64 = (1 << 64) - 1


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def first_uniform(seed, run, purpose):
    """the first output / 2^32 of stream (seed, run, purpose) (pcg.h)"""
    k = mix64(mix64(mix64(seed) ^ run) ^ purpose)
    inc = ((mix64(k ^ 0x5851F42D4C957F2D) << 1) | 1) & M64
    mult = 6364136223846793005
    state = inc  # state 0, one step: 0 * mult + inc
    state = (state + k) & M64
    state = (state * mult + inc) & M64
    old = state
    xs = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
    rot = old >> 59
    out = ((xs >> rot) | (xs << ((-rot) & 31))) & 0xFFFFFFFF
    return out / 4294967296.0


def check_runs(h5, draws_csv):
    import h5py
    d = np.genfromtxt(draws_csv, delimiter=",", skip_header=1)[:, 2:]
    with h5py.File(h5, "r") as f:
        seed = int(f.attrs["seed"])
        unc = f.attrs["uncertainty"]
        unc = unc.decode() if isinstance(unc, bytes) else str(unc)
        idx = f["/runs/posterior_draw"][:]
        coef = f["/runs/coefficients"][:]
        # one model: a scalar; several (models:): one per model, the run's
        # model in /runs/model (the tests give every model the same draws)
        nds = np.atleast_1d(f["/runs/posterior_draw"].attrs["n_draws"])
    bad = 0
    if not unc.startswith("posterior") or np.any(nds != len(d)):
        print("FAIL: uncertainty %r, n_draws %s (draws file %d rows)" % (unc, nds, len(d)))
        bad = 1
    want = np.array([int(np.floor(first_uniform(seed, r, 2) * len(d))) for r in range(len(idx))])
    if not np.array_equal(idx, want):
        print("FAIL: /runs/posterior_draw differs from floor(u n_draws) in %d runs"
              % int((idx != want).sum()))
        bad = 1
    if not np.array_equal(coef, d[idx]):
        print("FAIL: /runs/coefficients is not the draws file's row /runs/posterior_draw")
        bad = 1
    print("%d runs, %d distinct draws of %d; coefficients = draws rows: %s"
          % (len(idx), len(set(idx.tolist())), len(d), "yes" if not bad else "NO"))
    return bad


def _runs_of(path):
    import h5py
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and (name.startswith("runs/") or name.startswith("summary/")):
                out[name] = obj[()]
        f.visititems(visit)
    return out


def check_same(a, b):
    A, B = _runs_of(a), _runs_of(b)
    bad = sorted(set(A) ^ set(B)) + [k for k in A if k in B and not np.array_equal(A[k], B[k])]
    print("datasets compared: %d; differing: %s" % (len(A), bad or "none"))
    return int(bool(bad) or not A)


def check_pair(base, scen):
    A, B = _runs_of(base), _runs_of(scen)
    bad = 0
    for k in ("runs/posterior_draw", "runs/coefficients"):
        if not np.array_equal(A[k], B[k]):
            print("FAIL: %s differs between baseline and scenario" % k)
            bad = 1
    y = "runs/province_adoption_year"
    changed = int((A[y] != B[y]).any(axis=1).sum())
    print("same draw and coefficients in every run; the scenario changed %d of %d runs"
          % (changed, len(A[y])))
    return bad or int(changed == 0)


def main():
    cmd = sys.argv[1]
    args = sys.argv[2:]
    fn = {"mode": check_mode, "diag": check_diag, "close": check_close,
          "at_prior": check_at_prior, "runs": check_runs, "same": check_same,
          "pair": check_pair}[cmd]
    return fn(*args)


if __name__ == "__main__":
    sys.exit(main())
