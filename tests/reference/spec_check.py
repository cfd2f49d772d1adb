"""The specification language of model files, recomputed independently.

    spec_check.py table TABLE.csv MODEL.yaml DATASET_DIR
        every column of the unit-year table written by `pdsim fit
        --export-table` rebuilt from the dataset's files (provinces.csv,
        panel.csv, central_documents.csv, contiguity.csv) with numpy-free
        Python: factor dummies NAME[LEVEL] of a units-file column or a panel
        variable, panel variables at their own lag, the year trend and its
        powers and period dummies, the documents count, the share of land
        neighbours adopted by the end of t - 1, and interactions as the
        product of their factors, natural splines of the year; to 1e-12;
    spec_check.py run HAZARDS.csv PROVINCE_YEAR.csv BASE_YEAR RUNS
        in the first simulated year (BASE_YEAR + 1) every unit's hazard is the
        one the fit gives its unit-year row (the state is the observed one):
        the Monte Carlo frequency of `pdsim run` (summary --csv, p_adopted)
        must match it within 4.5 binomial standard errors for each unit, and
        the sum of squared z over the units must lie below the chi-square
        99.9% quantile.
"""
import csv
import math
import re
import sys

fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL " + msg)


def parse_term(text):
    t = {}
    m = re.search(r"\{name: \"([^\"]*)\"", text)
    t["name"] = m.group(1) if m else None
    for key in ("dynamic", "variable", "unit", "level", "lag", "power", "transform"):
        m = re.search(r"\b" + key + r': "?([^,"}]+)"?', text)
        if m:
            t[key] = m.group(1)
    m = re.search(r"interval: \[([^,]+), ([^\]]+)\]", text)
    if m:
        t["interval"] = (float(m.group(1)), float(m.group(2)))
    m = re.search(r"knots: \[([^\]]+)\], basis: (\d+)", text)
    if m:
        t["knots"] = [float(x) for x in m.group(1).split(",")]
        t["basis"] = int(m.group(2))
    return t


def rcs(x, k, j):
    """column j (1-based) of the restricted cubic spline basis (Harrell,
    Regression Modeling Strategies, eq. 2.25, normalized by (k_n - k_1)^2)"""
    if j == 1:
        return x
    n = len(k)
    pos = lambda v: max(v, 0.0) ** 3
    tj, ta, tb = k[j - 2], k[n - 2], k[n - 1]
    v = pos(x - tj) - pos(x - ta) * (tb - tj) / (tb - ta) + pos(x - tb) * (ta - tj) / (tb - ta)
    return v / (tb - k[0]) ** 2


def read_terms(path):
    text = open(path, encoding="utf-8").read()
    lag = int(re.search(r"^lag: (\d+)", text, re.M).group(1))
    terms = []
    for line in re.findall(r"^  - \{name: .*$", text, re.M):
        m = re.search(r"interact: \[(.*)\], coef", line)
        t = parse_term(line)
        if m:
            t = {"name": t["name"], "factors": [parse_term(f + "}") for f in
                                                 re.findall(r"(\{name: [^}]*)\}", m.group(1))]}
        terms.append(t)
    return lag, terms


def check_table(table, model, dataset):
    lag, terms = read_terms(model)
    docs = []
    with open(dataset + "/central_documents.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            docs.append((int(r["year"]), float(r["count"]) * float(r["weight"])))
    units, adopted = {}, {}
    with open(dataset + "/provinces.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            units[r["code"]] = r
            adopted[r["code"]] = int(r["adoption_year"]) if r["adoption_year"] else None
    nbrs = {u: [] for u in units}
    with open(dataset + "/contiguity.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["type"] == "sea":
                continue  # sea links are off by default
            if r["unit_b"] not in nbrs[r["unit_a"]]:
                nbrs[r["unit_a"]].append(r["unit_b"])
                nbrs[r["unit_b"]].append(r["unit_a"])
    panel = {}
    with open(dataset + "/panel.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            panel[(r["unit"], int(r["year"]))] = r

    def value(t, unit, year):
        if "factors" in t:
            v = 1.0
            for f in t["factors"]:
                v *= value(f, unit, year)
            return v
        c = year - int(t.get("lag", lag))
        kind = t.get("dynamic")
        if "unit" in t:
            cell = units[unit][t["unit"]]
            return (1.0 if cell == t["level"] else 0.0) if "level" in t else float(cell)
        if kind is None:
            x = float(panel[(unit, c)][t["variable"]])
            if "level" in t:
                return 1.0 if x == float(t["level"]) else 0.0
        elif kind == "central_documents":
            x = sum(w for s, w in docs if s <= c)
        elif kind == "neighbours_adopted_pct":
            n = nbrs[unit]
            a = sum(1 for v in n if adopted[v] is not None and adopted[v] <= year - 1)
            x = 100.0 * a / len(n) if n else 0.0
        elif kind == "year":
            if "interval" in t:
                lo, hi = t["interval"]
                return 1.0 if lo <= year <= hi else 0.0
            if "knots" in t:  # knots in calendar years; column 1 is the trend year - 2000
                return rcs(float(year), t["knots"], t["basis"]) - (2000.0 if t["basis"] == 1 else 0.0)
            x = float(year - 2000) ** int(t.get("power", 1))
        else:
            raise SystemExit(f"spec_check.py: no reference for {t}")
        if t.get("transform") == "log1p":
            x = math.log1p(x)
        elif t.get("transform") == "log":
            x = math.log(x)
        return x

    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = list(rows[0].keys())[3:]
    if [t["name"] for t in terms] != cols:
        fail(f"{table}: columns {cols}, model terms {[t['name'] for t in terms]}")
        return
    for t, col in zip(terms, cols):
        worst = 0.0
        for r in rows:
            want = value(t, r["unit"], int(r["year"]))
            got = float(r[col])
            worst = max(worst, abs(got - want))
            if abs(got - want) > 1e-12 * (1 + abs(want)):
                fail(f"{table} {col}: unit {r['unit']} year {r['year']}: pdsim {got!r}, "
                     f"recomputed {want!r}")
                break
        else:
            print(f"  {col}: {len(rows)} unit-years recomputed (worst {worst:.1e})")
    # the rows: every unit from the first year until it adopts
    first, last = min(int(r["year"]) for r in rows), max(int(r["year"]) for r in rows)
    want_rows = sum(1 for u, a in adopted.items() if a is None or a >= first
                    for y in range(first, last + 1) if a is None or y <= a)
    if want_rows != len(rows):
        fail(f"{table}: {len(rows)} rows, expected {want_rows}")


def check_run(hazards, province_year, base_year, runs):
    year = int(base_year) + 1
    runs = int(runs)
    h = {}
    with open(hazards, newline="") as f:
        for r in csv.DictReader(f):
            if int(r["year"]) == year:
                h[r["unit"]] = float(r["hazard"])
    p = {}
    with open(province_year, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if int(r["year"]) == year and r["code"] in h:
                p[r["code"]] = float(r["p_adopted"])
    if len(p) != len(h) or not h:
        fail(f"{year}: {len(h)} units at risk in the fit, {len(p)} in the run")
        return
    chi2 = 0.0
    worst = 0.0
    for u in sorted(h):
        se = math.sqrt(max(h[u] * (1 - h[u]), 0.25 / runs) / runs)
        z = (p[u] - h[u]) / se
        chi2 += z * z
        worst = max(worst, abs(z))
        if abs(z) > 4.5:
            fail(f"{year}: unit {u}: run {p[u]:.5f} against the fit's hazard {h[u]:.5f} "
                 f"(z = {z:+.2f})")
    k = len(h)
    # Wilson-Hilferty: the 99.9% quantile of chi-square on k degrees of freedom
    q = k * (1 - 2 / (9 * k) + 3.0902 * math.sqrt(2 / (9 * k))) ** 3
    print(f"  {year}: {k} units, hazards {min(h.values()):.4f}..{max(h.values()):.4f}, "
          f"worst |z| {worst:.2f}, sum z^2 {chi2:.1f} (99.9% bound {q:.1f})")
    if chi2 > q:
        fail(f"{year}: sum of squared z {chi2:.1f} above {q:.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "table":
        check_table(*sys.argv[2:5])
    else:
        check_run(*sys.argv[2:6])
    sys.exit(1 if fails else 0)
