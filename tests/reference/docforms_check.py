"""The document forms of a fitted model, recomputed independently.

    docforms_check.py table TABLE.csv MODEL.yaml DATASET_DIR
        every document-form column (and every log1p panel column) of the
        unit-year table written by `pdsim fit --export-table`, recomputed from
        the dataset's central_documents.csv and panel.csv with the parameters
        that `pdsim fit -o` wrote into MODEL.yaml, to 1e-12;
    docforms_check.py run HAZARDS.csv PROVINCES.csv PROVINCE_YEAR.csv BASE_YEAR RUNS
        for a model whose terms are all document forms (the same hazard for
        every unit in a year): the hazards of the fit (--export-hazards, the
        person-period table) give P(adopted by year) = 1 - prod(1 - h), which
        the Monte Carlo of `pdsim run` (summary --csv) must match within
        4.5 standard errors in every year.
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


def read_terms(path):
    text = open(path, encoding="utf-8").read()
    lag = int(re.search(r"^lag: (\d+)", text, re.M).group(1))
    terms = []
    for line in re.findall(r"^  - \{name: .*$", text, re.M):
        t = {"name": re.search(r'name: "([^"]*)"', line).group(1)}
        for key in ("dynamic", "variable", "transform", "half_life", "window", "basis", "lag"):
            m = re.search(key + r': "?([^,"}]+)"?', line)
            if m:
                t[key] = m.group(1)
        m = re.search(r"interval: \[([^,]+), ([^\]]+)\]", line)
        if m:
            t["interval"] = (float(m.group(1)), float(m.group(2)))
        m = re.search(r"knots: \[([^\]]+)\]", line)
        if m:
            t["knots"] = [float(x) for x in m.group(1).split(",")]
        terms.append(t)
    return lag, terms


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


def check_table(table, model, dataset):
    lag, terms = read_terms(model)
    docs = []
    with open(dataset + "/central_documents.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            docs.append((int(r["year"]), float(r["count"]) * float(r["weight"])))
    years = sorted({y for y, _ in docs})
    first = next((y for y in years if sum(w for s, w in docs if s <= y) > 0), None)
    panel = {}
    with open(dataset + "/panel.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            panel[(r["unit"], int(r["year"]))] = r

    def value(t, unit, year):
        # a term's own lag replaces the model's
        c = year - int(t.get("lag", lag))
        kind = t.get("dynamic")
        if kind is None:
            x = float(panel[(unit, c)][t["variable"]])
        elif kind == "central_documents":
            x = sum(w for s, w in docs if s <= c)
        elif kind == "document_stock":
            h = float(t["half_life"])
            x = sum(w * 0.5 ** ((c - s) / h) for s, w in docs if s <= c)
        elif kind == "recent_documents":
            k = int(t["window"])
            x = sum(w for s, w in docs if c - k < s <= c)
        elif kind == "years_since_first_document":
            exposed = first is not None and c >= first
            d = c - first if exposed else 0
            if "interval" in t:
                lo, hi = t["interval"]
                return 1.0 if exposed and lo <= d <= hi else 0.0
            if "knots" in t:
                return rcs(float(d), t["knots"], int(t["basis"])) if exposed else 0.0
            x = float(d)
        else:
            return None
        if t.get("transform") == "log1p":
            x = math.log1p(x)
        elif t.get("transform") == "log":
            x = math.log(x)
        return x

    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = list(rows[0].keys())[3:]
    checked = 0
    for t, col in zip(terms, cols):
        if t.get("dynamic") is None and t.get("transform") != "log1p":
            continue
        worst = 0.0
        for r in rows:
            want = value(t, r["unit"], int(r["year"]))
            if want is None:
                break
            got = float(r[col])
            worst = max(worst, abs(got - want))
            if abs(got - want) > 1e-12 * (1 + abs(want)):
                fail(f"{table} {col}: unit {r['unit']} year {r['year']}: pdsim {got!r}, "
                     f"recomputed {want!r}")
                break
        else:
            checked += 1
            print(f"  {col}: {len(rows)} unit-years recomputed (worst {worst:.1e})")
    if checked == 0:
        fail(f"{table}: no column checked")


def check_run(hazards, provinces, province_year, base_year, runs):
    base_year = int(base_year)
    runs = int(runs)
    h = {}
    with open(hazards, newline="") as f:
        for r in csv.DictReader(f):
            y = int(r["year"])
            v = float(r["hazard"])
            if y in h and abs(h[y] - v) > 1e-15:
                fail(f"{hazards}: year {y}: hazards differ between units ({h[y]} and {v})")
            h[y] = v
    at_risk = set()
    with open(provinces, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            a = r["observed_adoption_year"]
            if not a or int(a) > base_year:
                at_risk.add(r["code"])
    p = {}
    with open(province_year, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["code"] in at_risk:
                p.setdefault(int(r["year"]), []).append(float(r["p_adopted"]))
    surv = 1.0
    worst = 0.0
    for y in sorted(p):
        if y not in h:
            fail(f"no fitted hazard for {y}")
            continue
        surv *= 1 - h[y]
        want = 1 - surv
        got = sum(p[y]) / len(p[y])
        # binomial SE of the pooled mean (units of one run are independent here:
        # no term depends on the other units)
        se = math.sqrt(max(want * (1 - want), 1e-12) / (len(p[y]) * runs))
        z = (got - want) / se
        worst = max(worst, abs(z))
        print(f"  {y}: hazard {h[y]:.6f}, P(adopted by) pp {want:.5f}, run {got:.5f}, z {z:+.2f}")
        if abs(z) > 4.5:
            fail(f"{y}: run's P(adopted by) {got:.5f} against {want:.5f} from the fit's hazards "
                 f"(z = {z:+.2f})")
    if not p:
        fail("no years compared")
    print(f"  worst |z| {worst:.2f} over {len(p)} years")


if __name__ == "__main__":
    if sys.argv[1] == "table":
        check_table(*sys.argv[2:5])
    else:
        check_run(*sys.argv[2:7])
    sys.exit(1 if fails else 0)
