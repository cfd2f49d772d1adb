"""pdsim calibrate recovers a known truth, its posterior covers it at the
nominal rate, and on a problem whose posterior is known exactly its sample
has that posterior's mean and sd.

Part 1, simulation-based calibration (SBC). A synthetic dataset: the small
test dataset (tests/data/small: 6 units, their contiguity, panel and
documents) with 40 sub-units per unit, none adopted at the start. For each
of SEEDS replications (default 20):

  1. draw the true sub-unit coefficients (intercept, parent) from the prior,
     U(-5, -2) x U(0, 2.5);
  2. simulate one history at the truth with pdsim itself
     (pdsim calibrate --simulate, its own seed) and take its statistics as
     the observed targets (sub-units adopted by 2020 and 2025, the 2025
     share ratio under adopted / other units, the risk-set share mean over
     2016-2025);
  3. calibrate (ABC-SMC, 300 particles, 8 generations) and take the weighted
     5% and 95% quantiles of each parameter: a 90% credible interval.

Checks:
  - coverage: the truth falls inside the 90% interval in a number of
    replications within the binomial 99% band of Binomial(SEEDS, 0.9)
    (SEEDS = 20: at least 14; the upper end is SEEDS), for each parameter.
    Since the truth is drawn from the prior, a correct posterior has this
    coverage exactly, whatever the data (Cook, Gelman & Rubin 2006); ABC's
    tolerance can only widen the intervals;
  - recovery: the posterior is informative: the mean posterior sd is below
    0.6 x the prior sd for each parameter, and the mean absolute error of
    the posterior mean below 0.6 x the prior sd;
  - pooled z^2 = ((posterior mean - truth) / posterior sd)^2 below the 99.5%
    point of chi-square(2 SEEDS) / (2 SEEDS);
  - the weights of each posterior sum to 1.
With 20 replications this part catches gross faults only (weights
multiplied by the kernel mixture instead of divided); a sampler that is
overconfident by 15-20% in sd passes it.

Part 2, the exact posterior (EXACT replications, default 6). A dataset of
100 units with 4 sub-units each, none adopted, and intercept-only models
(no terms) over one simulated year (base year 2015, horizon 2016): every
unit adopts independently with probability logit^-1(a), every sub-unit
with logit^-1(b), so the statistics S1 = units adopted by 2016 and S2 =
sub-units adopted by 2016 are independent, Binomial(100, logit^-1(a)) and
Binomial(400, logit^-1(b)). Priors a ~ N(-1, 1), b ~ U(-4, 0); targets S1
and S2 with scales 2 and 3. For each replication the truth is drawn from
the prior, one history at it gives the observed values, and pdsim
calibrate runs with 1000 particles and 8 generations. The target of its
last generation, at its tolerance eps, is the ABC posterior
    pi_eps(a, b) ~ prior(a, b) P(d(S1, S2) <= eps | a, b),
whose mean and sd this script computes exactly (up to quadrature error,
below 1e-4): the sum over the lattice points (S1, S2) inside the
tolerance, with 1-D integrals over a and b by the trapezoid rule on 4001
points (a over its prior mean +- 9 prior sds). There is no tolerance bias
to bound: the comparison is with the exact posterior of the same
tolerance, and the distance is computed exactly as pdsim does it. The
sample's weighted mean m and sd s of each parameter are compared with the
exact mean m* and sd s* by
    z_mean = (m - m*) / (s* / sqrt(ESS)),   z_sd = (s / s* - 1) sqrt(2 ESS),
ESS the effective sample size of the weights: for independent draws from
pi_eps each is about N(0, 1) (z_sd for a near-normal posterior). The
particles of ABC-SMC are not quite that (the ESS formula ignores the
correlation of the weights with the squared deviations and the randomness
of the previous generation): on one data set calibrated with 8 seeds the
correct sampler's z had a variance of up to 2.5. The check allows 3:
  - the mean of the 4 x EXACT values z^2 must lie below 3 x the 99.9%
    point of chi-square(4 EXACT) / (4 EXACT) (EXACT = 6: 3 x 2.137 = 6.41).
For the correct sampler, at a variance of 2.5, that fails with probability
below 1e-3; the correct sampler gave mean z^2 2.09 and 1.32 (CAL_SEED_BASE
0 and 1000).
What part 2 detects (mean z^2 19 to 119 with either seed base; the last
three passed part 1; sd ratios over the 12 replications): the weights
multiplied by the kernel mixture instead of divided (sd 0.42 to 0.82 of
the exact); no kernel correction (every weight 1: 0.80 to 1.41, means off
by up to 35 standard errors; the prior alone as the weight, without the
division by the mixture: 0.73 to 0.93); proposals without the perturbation
(copies of resampled particles: 0.57 to 0.93). The correct sampler: 0.96
to 1.08, means within 3.5 standard errors. Its limits: it checks the first two
moments of the marginals on one two-parameter problem with independent
statistics, at the tolerance the sampler reached; a fault that keeps those
(e.g. only in the correlation of two parameters, or only with dynamic
terms) is for part 1 and cli.calibrate to find, and a deviation of the sd
below about 5% (at ESS 900: z_sd = 1.9) is within its noise.

    coverage.py PDSIM_BINARY TESTS_DIR [SEEDS]
Environment: CAL_SEEDS (SEEDS), CAL_EXACT (EXACT), CAL_SEED_BASE (added to
every replication's seed, default 0: another set of replications).
"""
import csv
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

PDSIM, TESTS = sys.argv[1], os.path.abspath(sys.argv[2])
SEEDS = int(sys.argv[3]) if len(sys.argv) > 3 else int(os.environ.get("CAL_SEEDS", "20"))
PER_UNIT = int(os.environ.get("CAL_PER_UNIT", "40"))
GENS = int(os.environ.get("CAL_GENS", "8"))
EXACT = int(os.environ.get("CAL_EXACT", "6"))
BASE = int(os.environ.get("CAL_SEED_BASE", "0"))
PRIOR = {"subunit_model.intercept": (-5.0, -2.0), "subunit_model.parent": (0.0, 2.5)}
NAMES = list(PRIOR)
TARGETS = [  # statistic fields, scale
    ("statistic: subunits_adopted, year: 2020", 8.0),
    ("statistic: subunits_adopted, year: 2025", 12.0),
    ("statistic: subunit_share_mean, from: 2016, to: 2025", 3.0),
    ("statistic: subunit_share_ratio, year: 2025", 0.5),
]


def binom_band(n, p, level=0.99):
    pmf = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)]
    a = (1 - level) / 2
    lo = 0
    while sum(pmf[: lo + 1]) <= a:
        lo += 1
    hi = n
    while sum(pmf[hi:]) <= a:
        hi -= 1
    return lo, hi


def wquantile(x, w, q):
    pairs = sorted(zip(x, w))
    c = 0.0
    for v, wi in pairs:
        c += wi
        if c >= q * (1 - 1e-12):
            return v
    return pairs[-1][0]


def run(*args):
    p = subprocess.run([PDSIM, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL pdsim {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


# ---- part 2: the exact posterior -------------------------------------------

EX_UNITS, EX_PER_UNIT = 100, 4
EX_PRIOR = {"model.intercept": ("normal", -1.0, 1.0),
            "subunit_model.intercept": ("uniform", -4.0, 0.0)}
EX_TARGETS = [("units_adopted", 2.0), ("subunits_adopted", 3.0)]  # year 2016, scale


def logit_inv(x):
    return 1.0 / (1.0 + math.exp(-x))


def binom_pmf(k, n, p):
    if p <= 0.0 or p >= 1.0:
        return float(k == (0 if p <= 0.0 else n))
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p))


def prior_grid(prior, n=4001):
    """Trapezoid nodes and weights (times the prior's unnormalised density)."""
    kind, a, b = prior
    lo, hi = (a - 9 * b, a + 9 * b) if kind == "normal" else (a, b)
    h = (hi - lo) / (n - 1)
    xs = [lo + i * h for i in range(n)]
    ws = [h * (0.5 if i in (0, n - 1) else 1.0) *
          (math.exp(-0.5 * ((x - a) / b) ** 2) if kind == "normal" else 1.0)
          for i, x in enumerate(xs)]
    return xs, ws


def exact_abc_moments(m1, m2, obs, scales, eps):
    """Mean and sd of a and b under prior x P(d <= eps | a, b), S1 ~ Bin(m1,
    logit^-1 a) and S2 ~ Bin(m2, logit^-1 b) independent. The distance as
    pdsim computes it: sqrt(0 + z1^2 + z2^2), z = (s - observed) / scale."""
    window = []  # (s1, lowest s2, highest s2) with d <= eps
    for s1 in range(m1 + 1):
        z1 = (s1 - obs[0]) / scales[0]
        inside = [s2 for s2 in range(m2 + 1)
                  if math.sqrt(0.0 + z1 * z1 + ((s2 - obs[1]) / scales[1]) ** 2) <= eps]
        if inside:
            window.append((s1, inside[0], inside[-1]))
    ax, aw = prior_grid(EX_PRIOR["model.intercept"])
    bx, bw = prior_grid(EX_PRIOR["subunit_model.intercept"])
    pa = [logit_inv(x) for x in ax]
    pb = [logit_inv(x) for x in bx]
    # pmf of S2 at every b node, only where some window needs it
    need = sorted({k for _, lo, hi in window for k in range(lo, hi + 1)})
    pmf2 = {k: [binom_pmf(k, m2, p) for p in pb] for k in need}
    bcache = {}
    z = ea = ea2 = eb = eb2 = 0.0
    for s1, lo, hi in window:
        # the integrals over a of prior x P(S1 = s1 | a) times 1, a, a^2
        A = [0.0, 0.0, 0.0]
        for x, w, p in zip(ax, aw, pa):
            v = w * binom_pmf(s1, m1, p)
            A[0] += v
            A[1] += v * x
            A[2] += v * x * x
        if (lo, hi) not in bcache:
            B = [0.0, 0.0, 0.0]
            for i, (x, w) in enumerate(zip(bx, bw)):
                v = w * sum(pmf2[k][i] for k in range(lo, hi + 1))
                B[0] += v
                B[1] += v * x
                B[2] += v * x * x
            bcache[(lo, hi)] = B
        B = bcache[(lo, hi)]
        z += A[0] * B[0]
        ea += A[1] * B[0]
        ea2 += A[2] * B[0]
        eb += A[0] * B[1]
        eb2 += A[0] * B[2]
    ma, mb = ea / z, eb / z
    return {"model.intercept": (ma, math.sqrt(ea2 / z - ma * ma)),
            "subunit_model.intercept": (mb, math.sqrt(eb2 / z - mb * mb))}


def exact_part(tmp):
    ds = os.path.join(tmp, "exact-data")
    os.makedirs(ds)
    codes = [f"U{u:03d}" for u in range(EX_UNITS)]
    with open(os.path.join(ds, "units.csv"), "w") as f:
        f.write("code,name,region,adoption_year\n")
        f.writelines(f"{c},Unit {c},r,\n" for c in codes)
    with open(os.path.join(ds, "panel.csv"), "w") as f:
        f.write("unit,year,size,share,share_provenance\n")
        f.writelines(f"{c},{y},100,10.0,sourced\n" for c in codes for y in range(2010, 2016))
    with open(os.path.join(ds, "contiguity.csv"), "w") as f:
        f.write("unit_a,unit_b,type\n")
    shutil.copy(os.path.join(TESTS, "data", "small", "documents.csv"), ds)
    with open(os.path.join(ds, "subunits.csv"), "w") as f:
        f.write("code,name,parent,adoption_year\n")
        f.writelines(f"{c}S{j},{c} {j},{c},\n" for c in codes for j in range(EX_PER_UNIT))
    with open(os.path.join(ds, "subunit_counts.csv"), "w") as f:
        f.write("unit,year,adopted\n")
    for name in ("exact-unit", "exact-sub"):
        with open(os.path.join(tmp, name + ".yaml"), "w") as f:
            f.write(f"name: {name}\nlink: logit\nlag: 1\nintercept: {{coef: -2}}\nterms: []\n")
    with open(os.path.join(tmp, "exact-run.yaml"), "w") as f:
        f.write("dataset: exact-data\nmodel: exact-unit.yaml\nsubunit_model: exact-sub.yaml\n"
                "base_year: 2015\nhorizon: 2016\nruns: 1\nseed: 1\n"
                "projection:\n  default: {rule: hold}\n")

    def cal_file(seed, observed):
        path = os.path.join(tmp, f"exact-{seed}.yaml")
        with open(path, "w") as f:
            f.write(f"config: exact-run.yaml\nparticles: 1000\ngenerations: 8\nquantile: 0.5\n"
                    f"seed: {seed}\noutput: exact-out-{seed}\nthreads: 1\nparameters:\n")
            for n, (kind, a, b) in EX_PRIOR.items():
                f.write(f"  {n}: {{{kind}: [{a}, {b}]}}\n")
            f.write("targets:\n")
            for (stat, scale), obs in zip(EX_TARGETS, observed):
                f.write(f"  - {{statistic: {stat}, year: 2016, observed: {obs!r}, "
                        f"scale: {scale}}}\n")
        return path

    zs = []
    worst = 0.0
    for seed in range(BASE + 1, BASE + EXACT + 1):
        rng = random.Random(5000 + seed)
        truth = [rng.gauss(b0, b1) if kind == "normal" else rng.uniform(b0, b1)
                 for kind, b0, b1 in EX_PRIOR.values()]
        out = run("calibrate", cal_file(seed, [0.0, 0.0]), "--simulate",
                  ",".join(repr(t) for t in truth), "-s", str(7000 + seed))
        observed = [float(line.split("\t")[1]) for line in out.strip().split("\n")[:2]]
        run("calibrate", cal_file(seed, observed), "-q")
        folder = os.path.join(tmp, f"exact-out-{seed}")
        last = sorted(f for f in os.listdir(folder) if f.startswith("gen-"))[-1]
        with open(os.path.join(folder, last)) as f:
            eps = float(f.readline().split("tolerance=")[1].split()[0])
            rows = list(csv.DictReader(f))
        w = [float(r["weight"]) for r in rows]
        ess = 1.0 / sum(x * x for x in w)
        exact = exact_abc_moments(EX_UNITS, EX_UNITS * EX_PER_UNIT, observed,
                                  [sc for _, sc in EX_TARGETS], eps)
        line = [f"exact seed {seed}: observed {observed[0]:.0f}, {observed[1]:.0f}; "
                f"tolerance {eps:.4g}, ESS {ess:.0f}"]
        for n in EX_PRIOR:
            x = [float(r[n]) for r in rows]
            m = sum(a * b for a, b in zip(x, w))
            sd = math.sqrt(sum(b * (a - m) ** 2 for a, b in zip(x, w)))
            em, esd = exact[n]
            zm = (m - em) / (esd / math.sqrt(ess))
            zsd = (sd / esd - 1) * math.sqrt(2 * ess)
            zs += [zm, zsd]
            worst = max(worst, abs(zm), abs(zsd))
            line.append(f"{n} mean {m:.4f} (exact {em:.4f}, z {zm:+.2f}) sd {sd:.4f} "
                        f"(exact {esd:.4f}, ratio {sd / esd:.3f}, z {zsd:+.2f})")
        print("; ".join(line))
    k = len(zs)
    mz2 = sum(z * z for z in zs) / k
    # Wilson-Hilferty: the 99.9% point of chi-square(k), divided by k
    lim = 3 * (1 - 2 / (9 * k) + 3.090 * math.sqrt(2 / (9 * k))) ** 3
    ok = mz2 < lim
    print(f"{'ok' if ok else 'FAIL'} exact posterior: mean z^2 {mz2:.3f} over {k} moments "
          f"(must be below {lim:.3f}, 3 x the 99.9% point of chi-square({k}) / {k}); "
          f"largest |z| {worst:.2f}")
    return 0 if ok else 1


def main():
    tmp = tempfile.mkdtemp(prefix="pdsim-calcov-")
    try:
        ds = os.path.join(tmp, "data")
        shutil.copytree(os.path.join(TESTS, "data", "small"), ds)
        units = [r["code"] for r in csv.DictReader(open(os.path.join(ds, "units.csv")))]
        with open(os.path.join(ds, "subunits.csv"), "w") as f:
            f.write("code,name,parent,adoption_year\n")
            for u in units:
                for j in range(PER_UNIT):
                    f.write(f"{u}{j:02d},{u} {j},{u},\n")
        with open(os.path.join(ds, "subunit_counts.csv"), "w") as f:
            f.write("unit,year,adopted\n")
        with open(os.path.join(tmp, "unit.yaml"), "w") as f:
            f.write("name: slow-units\nlink: logit\nlag: 1\nintercept: {coef: -2.5}\nterms: []\n")
        with open(os.path.join(tmp, "city.yaml"), "w") as f:
            f.write("name: synthetic-city\nlink: logit\nlag: 1\nintercept: {coef: -3.0}\n"
                    "terms:\n  - {name: parent, dynamic: parent_adopted, coef: 1.0}\n")
        with open(os.path.join(tmp, "run.yaml"), "w") as f:
            f.write("dataset: data\nmodel: unit.yaml\nsubunit_model: city.yaml\n"
                    "base_year: 2015\nhorizon: 2025\nruns: 1\nseed: 1\n"
                    "projection:\n  default: {rule: hold}\n")

        def cal_file(seed, observed):
            path = os.path.join(tmp, f"cal-{seed}.yaml")
            with open(path, "w") as f:
                f.write(f"config: run.yaml\nparticles: 300\ngenerations: {GENS}\nquantile: 0.5\n"
                        f"seed: {seed}\noutput: out-{seed}\nthreads: 1\nparameters:\n")
                for n in NAMES:
                    f.write(f"  {n}: {{uniform: [{PRIOR[n][0]}, {PRIOR[n][1]}]}}\n")
                f.write("targets:\n")
                for (spec, scale), obs in zip(TARGETS, observed):
                    f.write(f"  - {{{spec}, observed: {obs!r}, scale: {scale}}}\n")
            return path

        lo, hi = binom_band(SEEDS, 0.9)
        covered = {n: 0 for n in NAMES}
        half = {n: 0 for n in NAMES}
        z2 = {n: [] for n in NAMES}
        sds = {n: [] for n in NAMES}
        errs = {n: [] for n in NAMES}
        for seed in range(BASE + 1, BASE + SEEDS + 1):
            rng = random.Random(1000 + seed)
            probe = cal_file(seed, [0.0] * len(TARGETS))
            for attempt in range(100):
                truth = [rng.uniform(*PRIOR[n]) for n in NAMES]
                # observed statistics: one history at the truth
                out = run("calibrate", probe, "--simulate", ",".join(repr(t) for t in truth),
                          "-s", str(100 * seed + attempt))
                vals = dict(line.split("\t") for line in out.strip().split("\n"))
                observed = [float(v) for k, v in vals.items() if k != "distance"]
                # a history whose ratio is undefined (no adopter under the other units)
                # is never accepted by the calibration either: drawing the pair (truth,
                # history) again conditions both on the same event, which keeps the
                # check exact
                if all(math.isfinite(v) for v in observed):
                    break
            path = cal_file(seed, observed)
            run("calibrate", path, "-q")
            rows = list(csv.DictReader(open(os.path.join(tmp, f"out-{seed}", "posterior.csv"))))
            w = [float(r["weight"]) for r in rows]
            if abs(sum(w) - 1) > 1e-9:
                print(f"FAIL seed {seed}: weights sum to {sum(w)}")
                return 1
            line = [f"seed {seed:2d}"]
            for n, t in zip(NAMES, truth):
                x = [float(r[n]) for r in rows]
                q05, q95 = wquantile(x, w, 0.05), wquantile(x, w, 0.95)
                m = sum(a * b for a, b in zip(x, w))
                sd = math.sqrt(sum(b * (a - m) ** 2 for a, b in zip(x, w)))
                ok = q05 <= t <= q95
                covered[n] += ok
                q25, q75 = wquantile(x, w, 0.25), wquantile(x, w, 0.75)
                half[n] += q25 <= t <= q75
                z2[n].append(((m - t) / sd) ** 2)
                sds[n].append(sd)
                errs[n].append(abs(m - t))
                line.append(f"{n} truth {t:.3f} 90% [{q05:.3f}, {q95:.3f}] {'in' if ok else 'OUT'}")
            print("; ".join(line))
        failed = 0
        # pooled z^2 = ((posterior mean - truth) / posterior sd)^2 over both
        # parameters: about chi-square(1) each for a correct posterior (less
        # with ABC's tolerance); an overconfident posterior inflates it
        k = len(NAMES) * SEEDS
        zall = sum(sum(z2[n]) for n in NAMES) / k
        zlim = (1 - 2 / (9 * k) + 2.576 * math.sqrt(2 / (9 * k))) ** 3  # chi2_k 99.5% / k
        ok_z = zall < zlim
        print(f"{'ok' if ok_z else 'FAIL'} pooled mean z^2 {zall:.3f} over {k} intervals "
              f"(must be below {zlim:.3f}, the 99.5% point of chi-square({k}) / {k})")
        failed += not ok_z
        for n in NAMES:
            prior_sd = (PRIOR[n][1] - PRIOR[n][0]) / math.sqrt(12)
            msd, merr = sum(sds[n]) / SEEDS, sum(errs[n]) / SEEDS
            ok_cov = lo <= covered[n] <= hi
            ok_inf = msd < 0.6 * prior_sd and merr < 0.6 * prior_sd
            print(f"{'ok' if ok_cov else 'FAIL'} {n}: 90% intervals cover the truth in "
                  f"{covered[n]} of {SEEDS} (binomial 99% band {lo}..{hi})")
            print(f"{'ok' if ok_inf else 'FAIL'} {n}: mean posterior sd {msd:.3f}, mean |error| "
                  f"{merr:.3f}, prior sd {prior_sd:.3f} (both must be < 0.6 x prior sd)")
            print(f"info {n}: 50% intervals cover {half[n]} of {SEEDS}; mean z^2 {sum(z2[n]) / SEEDS:.3f}")
            failed += (not ok_cov) + (not ok_inf)
        failed += exact_part(tmp)
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
