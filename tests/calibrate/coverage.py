"""pdsim calibrate recovers a known truth, and its posterior covers it at
the nominal rate.

A synthetic dataset: the small test dataset (tests/data/small: 6 units,
their contiguity, panel and documents) with 25 sub-units per unit, none
adopted at the start. For each of SEEDS replications (default 20):

  1. draw the true sub-unit coefficients (intercept, parent) from the prior,
     U(-5, -2) x U(0, 2.5);
  2. simulate one history at the truth with pdsim itself
     (pdsim calibrate --simulate, its own seed) and take its statistics as
     the observed targets (sub-units adopted by 2018, 2021 and 2025, the
     2025 share ratio under adopted / other units, the risk-set share
     mean over 2016-2025);
  3. calibrate (ABC-SMC, 300 particles, 6 generations) and take the weighted
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
  - the weights of each posterior sum to 1.

    coverage.py PDSIM_BINARY TESTS_DIR [SEEDS]
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
        for seed in range(1, SEEDS + 1):
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
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
