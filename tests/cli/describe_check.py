"""Independent check of `pdsim describe` on the China reference dataset.

Recomputes, with the standard library only and straight from the CSV files,
the unit-years at risk (outcome years 2014..2023, each province until it
adopts), the regressors of a model (documents through t-1, % of land
neighbours and of cities adopted by the end of t-1, panel values of t-1,
logged where the model logs), their means and sds, and the sum of the
model's fitted logit hazards per year; then compares with the printed output.
    describe_check.py DATASET_DIR MODEL.yaml DESCRIBE_OUTPUT
"""
import csv
import math
import os
import re
import sys

ds, model_path, out_path = sys.argv[1:4]
FIRST, LAST = 2014, 2023


def table(role, generic):
    names = {}
    mf = os.path.join(ds, "dataset.yaml")
    if os.path.exists(mf):
        for line in open(mf, encoding="utf-8"):
            m = re.match(r"^(\w+):\s*(\S+)", line)
            if m:
                names[m.group(1)] = m.group(2)
    with open(os.path.join(ds, names.get(role, generic)), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


units = table("units", "units.csv")
adopt = {u["code"]: int(u["adoption_year"]) if u["adoption_year"] else None for u in units}
nbrs = {c: set() for c in adopt}
for r in table("contiguity", "contiguity.csv"):
    if r.get("type", "land") in ("", "land"):
        nbrs[r["unit_a"]].add(r["unit_b"])
        nbrs[r["unit_b"]].add(r["unit_a"])
ncities = {c: 0 for c in adopt}
for r in table("subunits", "subunits.csv"):
    ncities[r["parent"]] += 1
counts = {(r["unit"], int(r["year"])): int(r["adopted"]) for r in table("subunit_counts", "subunit_counts.csv")}
docs = [(int(r["year"]), float(r["count"]) * float(r.get("weight") or 1)) for r in table("documents", "documents.csv")]
panel = {(r["unit"], int(r["year"])): r for r in table("panel", "panel.csv")}

# model terms: one flow mapping per line, as the model files are written
terms = []
intercept = None
for line in open(model_path, encoding="utf-8"):
    m = re.match(r"^intercept:\s*\{coef:\s*([-0-9.eE]+)", line)
    if m:
        intercept = float(m.group(1))
    m = re.match(r"^\s*-\s*\{(.*)\}\s*$", line)
    if m:
        kv = dict(re.findall(r"(\w+):\s*([^,]+)", m.group(1)))
        terms.append(kv)
assert intercept is not None and terms


def city_pct(c, y):
    if not ncities[c]:
        return 0.0
    best = max(((yy, n) for (u, yy), n in counts.items() if u == c and yy <= y), default=(0, 0))[1]
    return 100.0 * best / ncities[c]


def value(term, c, t):
    if "dynamic" in term:
        d = term["dynamic"].strip()
        if d == "central_documents":
            return sum(n for y, n in docs if y <= t - 1)
        if d == "neighbours_adopted_pct":
            nb = nbrs[c]
            return 100.0 * sum(1 for b in nb if adopt[b] and adopt[b] <= t - 1) / len(nb) if nb else 0.0
        if d == "subunits_adopted_pct":
            return city_pct(c, t - 1)
        raise SystemExit("unknown dynamic " + d)
    x = float(panel[(c, t - 1)][term["variable"].strip()])
    return math.log(x) if term.get("transform", "").strip() == "log" else x


rows = [(c, t) for c in adopt for t in range(FIRST, LAST + 1) if adopt[c] is None or adopt[c] >= t]
cols = {term["name"].strip(): [value(term, c, t) for c, t in rows] for term in terms}
cols["adoption"] = [1.0 if adopt[c] == t else 0.0 for c, t in rows]
eta = [intercept + sum(float(term["coef"]) * cols[term["name"].strip()][i] for term in terms)
       for i in range(len(rows))]

text = open(out_path, encoding="utf-8").read()
bad = []


def near(what, got, want, tol):
    if not abs(got - want) <= tol:
        bad.append("%s: describe printed %.6g, recomputed %.6g" % (what, got, want))


m = re.search(r"(\d+) rows, \d+ units, (\d+) adoptions", text)
near("rows", float(m.group(1)), len(rows), 0)
near("adoptions", float(m.group(2)), sum(cols["adoption"]), 0)
for name, xs in cols.items():
    m = re.search(r"^%s\s+([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)" % re.escape(name), text, re.M)
    mu = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))
    for k, want in zip(range(1, 5), (mu, sd, min(xs), max(xs))):
        near("%s stat %d" % (name, k), float(m.group(k)), want, 0.0051)
# expected adoptions per year, with the model's intercept and the recalibrated one
shift = float(re.search(r"shift ([-+0-9.]+)", text).group(1))
for y in range(FIRST, LAST + 1):
    m = re.search(r"^\s+%d\s+(\d+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)" % y, text, re.M)
    idx = [i for i, (c, t) in enumerate(rows) if t == y]
    near("at risk %d" % y, float(m.group(1)), len(idx), 0)
    near("observed %d" % y, float(m.group(2)), sum(cols["adoption"][i] for i in idx), 0)
    near("expected %d" % y, float(m.group(3)), sum(1 / (1 + math.exp(-eta[i])) for i in idx), 0.0006)
    near("recalibrated %d" % y, float(m.group(4)), sum(1 / (1 + math.exp(-eta[i] - shift)) for i in idx), 0.002)
m = re.search(r"^\s+total\s+(\d+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)", text, re.M)
near("total expected", float(m.group(3)), sum(1 / (1 + math.exp(-e)) for e in eta), 0.0006)
near("total recalibrated = observed", float(m.group(4)), sum(cols["adoption"]), 0.0006)
# the recalibrated intercept, recomputed from the printed shift, matches the events
near("recalibrated sum from the printed shift", sum(1 / (1 + math.exp(-e - shift)) for e in eta),
     sum(cols["adoption"]), 0.01)
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("describe matches the independent computation: %d rows, %d adoptions, expected %.3f"
      % (len(rows), sum(cols["adoption"]), sum(1 / (1 + math.exp(-e)) for e in eta)))
