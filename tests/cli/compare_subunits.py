"""Recompute the sub-unit results of `pdsim compare` from the two result
files' /runs/subunit_adoption_year, run r of the baseline paired with run r
of the scenario, and check the -o file's /subunits group (to 1e-12), the
sub-unit CSV (to its 10 significant digits) and the printed block.

    compare_subunits.py BASE.h5 SCEN.h5 DIFF.h5 DIFF-subunits.csv STDOUT.txt
"""
import csv
import math
import re
import sys

import h5py
import numpy as np

Z95 = 1.959963984540054
base_path, scen_path, diff_path, csv_path, out_path = sys.argv[1:6]
failures = []


def fail(what):
    failures.append(what)


def close(name, got, want, tol=1e-12):
    got, want = np.asarray(got, float), np.asarray(want, float)
    if got.shape != want.shape:
        fail(f"{name}: shape {got.shape}, expected {want.shape}")
        return
    both_nan = np.isnan(got) & np.isnan(want)
    both_inf = np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want))
    with np.errstate(invalid="ignore"):
        err = np.abs(got - want)
        bad = ~(both_nan | both_inf) & ~(err <= tol * np.maximum(1.0, np.abs(want)))
    if bad.any():
        i = np.argwhere(bad)[0]
        fail(f"{name}{list(i)}: {got[tuple(i)]!r}, expected {want[tuple(i)]!r} "
             f"({int(bad.sum())} of {bad.size} off)")


def strings(ds):
    return [s.decode() if isinstance(s, bytes) else s for s in ds[:]]


with h5py.File(base_path, "r") as b, h5py.File(scen_path, "r") as s:
    first, last, base = (int(b.attrs[k]) for k in ("first_year", "last_year", "base_year"))
    xb = b["runs/subunit_adoption_year"][:].astype(np.int64)
    xs = s["runs/subunit_adoption_year"][:].astype(np.int64)
    codes = strings(b["subunits/code"])
    names = strings(b["subunits/name"])
    parents = strings(b["subunits/unit_code"])
    unit_name = dict(zip(strings(b["units/code"]), strings(b["units/name"])))
    if codes != strings(s["subunits/code"]):
        fail("the two files' sub-units differ: the test expects the same ones")

R, S = xb.shape
years = np.arange(first, last + 1)
Y = len(years)


def eff(x):  # censored at the horizon, adopted by the base year counts as it
    return np.where(x == 0, last + 1, np.where(x < 0, base, x))


def adopted(x):  # [R x S x Y]: adopted by the end of each year
    return (x[:, :, None] != 0) & (x[:, :, None] <= years[None, None, :])


def paired(d):  # mean, 95% low, 95% high and SE over the runs (axis 0)
    m = d.mean(axis=0)
    se = d.std(axis=0, ddof=1) / math.sqrt(R) if R > 1 else np.zeros_like(m)
    return np.stack([m, m - Z95 * se, m + Z95 * se]), se


ab, as_ = adopted(xb).astype(float), adopted(xs).astype(float)
yb, ys = eff(xb).astype(float), eff(xs).astype(float)
p = np.stack([ab.mean(axis=0), as_.mean(axis=0)])  # [2 x S x Y]
p_diff, p_se = paired(as_ - ab)  # [3 x S x Y], [S x Y]
my = np.stack([yb.mean(axis=0), ys.mean(axis=0)])  # [2 x S]
yd = ys - yb
my_diff, my_se = paired(yd)  # [3 x S]
nb, ns = ab.sum(axis=1), as_.sum(axis=1)  # [R x Y] sub-units adopted per run
nat_diff, _ = paired(ns - nb)
share = np.stack([(nb / S).mean(axis=0), (ns / S).mean(axis=0)])
share_diff, share_se = paired((ns - nb) / S)
gained, _ = paired((yb - ys).sum(axis=1))
vi = nb.var(axis=0, ddof=1) + ns.var(axis=0, ddof=1)
vp = (ns - nb).var(axis=0, ddof=1)
with np.errstate(divide="ignore", invalid="ignore"):
    vr = np.where(vp > 0, vi / np.where(vp > 0, vp, 1), np.where(vi > 0, np.inf, np.nan))

with h5py.File(diff_path, "r") as d:
    g = d["subunits"]
    K = int(d.attrs["year"]) - first
    if strings(g["subunit_code"]) != codes:
        fail("/subunits/subunit_code is not the baseline's /subunits/code in order")
    if strings(g["subunit_name"]) != names:
        fail("/subunits/subunit_name is not the baseline's /subunits/name")
    if strings(g["unit_code"]) != parents:
        fail("/subunits/unit_code is not the baseline's /subunits/unit_code")
    if strings(g["unit_name"]) != [unit_name[c] for c in parents]:
        fail("/subunits/unit_name is not the names of the parents")
    if list(g["years"][:]) != list(years):
        fail("/subunits/years")
    close("/subunits/p_adopted_by_year", g["p_adopted_by_year"][:], p)
    close("/subunits/p_adopted_by_year_diff", g["p_adopted_by_year_diff"][:], p_diff)
    close("/subunits/mean_adoption_year", g["mean_adoption_year"][:], my)
    close("/subunits/mean_adoption_year_diff", g["mean_adoption_year_diff"][:], my_diff)
    close("/subunits/national_adopted_diff", g["national_adopted_diff"][:], nat_diff)
    close("/subunits/share_adopted", g["share_adopted"][:], share)
    close("/subunits/share_adopted_diff", g["share_adopted_diff"][:], share_diff)
    close("/subunits/share_adopted_se", g["share_adopted_se"][:], share_se)
    close("/subunits/subunit_years_gained", g["subunit_years_gained"][:], gained)
    close("/subunits/variance_reduction", g["variance_reduction"][:], vr)
    for name in g:
        if "description" not in g[name].attrs:
            fail(f"/subunits/{name} has no description")

# the CSV: every row against the recomputation, to its 10 significant digits
with open(csv_path, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
head = "quantity,subunit,name,unit,unit_name,year,base,scenario,difference,ci_low,ci_high,variance_ratio"
if ",".join(rows[0]) != head:
    fail(f"CSV header {rows[0]}")
want_rows = []
for k in range(Y):
    want_rows.append((("share_adopted", "", "", "", "", str(years[k])),
                      [share[0, k], share[1, k], *share_diff[:, k], vr[k]]))
for u in range(S):
    key = (codes[u], names[u], parents[u], unit_name[parents[u]])
    for k in range(Y):
        want_rows.append((("p_adopted_by_year", *key, str(years[k])),
                          [p[0, u, k], p[1, u, k], *p_diff[:, u, k], None]))
for u in range(S):
    key = (codes[u], names[u], parents[u], unit_name[parents[u]])
    want_rows.append((("mean_adoption_year", *key, ""), [my[0, u], my[1, u], *my_diff[:, u], None]))
want_rows.append((("subunit_years_gained", "", "", "", "", ""), [None, None, *gained, None]))
if len(rows) - 1 != len(want_rows):
    fail(f"CSV has {len(rows) - 1} rows, expected {len(want_rows)}")


def cell_ok(cell, want):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return cell == ""
    if math.isinf(want):
        return cell == ("inf" if want > 0 else "-inf")
    if want == 0:
        return cell == "0" or abs(float(cell)) <= 1e-15
    return abs(float(cell) - want) <= 1e-9 * abs(want)


for i, (row, (key, nums)) in enumerate(zip(rows[1:], want_rows), start=2):
    if tuple(row[:6]) != key:
        fail(f"CSV line {i}: key {row[:6]}, expected {list(key)}")
        break
    for j, want in enumerate(nums):
        if not cell_ok(row[6 + j], want):
            fail(f"CSV line {i} column {head.split(',')[6 + j]}: {row[6 + j]!r}, expected {want!r}")
            break

# the printed block: the share line, then the ten largest year shifts
text = open(out_path, encoding="utf-8").read()
m = re.search(r"^Sub-units: share adopted by (\d+) base (\S+), scenario (\S+), "
              r"difference (\S+) \(SE (\S+)\)$", text, re.M)
if not m:
    fail("no 'Sub-units: share adopted by' line on stdout")
else:
    if int(m.group(1)) != first + K:
        fail(f"share line year {m.group(1)}, expected {first + K}")
    for got, want, what in zip(map(float, m.groups()[1:]),
                               [share[0, K], share[1, K], share_diff[0, K], share_se[K]],
                               ["base", "scenario", "difference", "SE"]):
        if abs(got - want) > 5.001e-5:
            fail(f"share line {what}: {got}, expected {want:.6f}")
moved = [u for u in range(S) if np.any(yd[:, u] != 0)]
order = sorted(moved, key=lambda u: (-abs(yd[:, u].sum()), -abs((as_ - ab)[:, u, K].sum()), u))
want_top = [codes[u] for u in order[:10]]
lines = text.split("\n")
try:
    h = next(i for i, line in enumerate(lines) if line.startswith("sub-unit "))
    got_top = [line.split()[0] for line in lines[h + 1:h + 1 + len(want_top)]]
    if got_top != want_top:
        fail(f"printed largest shifts {got_top}, expected {want_top}")
    for line, u in zip(lines[h + 1:], order[:10]):
        if names[u] not in line or unit_name[parents[u]] not in line:
            fail(f"printed line of {codes[u]} lacks its name or its unit's: {line!r}")
        # P base, P scen, P diff, its SE, year diff, its SE
        nums = [float(x) for x in re.findall(r"[-+]?\d+\.\d+", line)]
        want = [p[0, u, K], p[1, u, K], p_diff[0, u, K], p_se[u, K], my_diff[0, u], my_se[u]]
        tol = [5.001e-4, 5.001e-4, 5.001e-5, 5.001e-5, 5.001e-4, 5.001e-4]
        for j, what in enumerate(["P base", "P scen", "P diff", "P SE", "year diff", "year SE"]):
            if len(nums) != 6 or abs(nums[j] - want[j]) > tol[j]:
                fail(f"printed {what} of {codes[u]}: {line!r}, expected {want[j]:.5f}")
                break
except StopIteration:
    if want_top:
        fail("no table of the largest sub-unit shifts on stdout")

if not (np.abs(share_diff[0]) > 0).any():
    fail("the scenario moves no sub-unit: the check would prove nothing")
for f in failures:
    print("FAIL", f)
print(f"{S} sub-units, {R} paired runs, comparison year {first + K}: "
      f"{'ok' if not failures else str(len(failures)) + ' failures'}")
sys.exit(1 if failures else 0)
