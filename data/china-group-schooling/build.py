#!/usr/bin/env python3
"""Build the provisional china-group-schooling dataset.

Deterministic: reads only the raw source folders under $PDSIM_RAW_DATA,
else ../shared/data (relative to the repository root), and rewrites the CSV files next to this
script. Run from anywhere:  python3 data/china-group-schooling/build.py
Every rule applied here is described in README.md.
"""
import csv
import io
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# the raw source folders: $PDSIM_RAW_DATA, else ../shared/data beside the repository
SRC = os.path.normpath(os.environ.get("PDSIM_RAW_DATA") or os.path.join(ROOT, "..", "shared", "data"))

YEARS = list(range(2013, 2024))
NBS_LAST = 2019

# ---------------------------------------------------------------- provinces
PINYIN = {
    11: "Beijing", 12: "Tianjin", 13: "Hebei", 14: "Shanxi", 15: "Inner Mongolia",
    21: "Liaoning", 22: "Jilin", 23: "Heilongjiang", 31: "Shanghai", 32: "Jiangsu",
    33: "Zhejiang", 34: "Anhui", 35: "Fujian", 36: "Jiangxi", 37: "Shandong",
    41: "Henan", 42: "Hubei", 43: "Hunan", 44: "Guangdong", 45: "Guangxi",
    46: "Hainan", 50: "Chongqing", 51: "Sichuan", 52: "Guizhou", 53: "Yunnan",
    54: "Tibet", 61: "Shaanxi", 62: "Gansu", 63: "Qinghai", 64: "Ningxia",
    65: "Xinjiang",
}
# Seed 000, footnote to Table 1 (11 east, 8 central, 12 west).
EAST = {11, 12, 13, 21, 31, 32, 33, 35, 37, 44, 46}
CENTRAL = {14, 22, 23, 34, 36, 41, 42, 43}


def region_of(code):
    return "east" if code in EAST else "central" if code in CENTRAL else "west"


REGION_NUM = {"east": 1, "central": 2, "west": 3}

S000 = "Wu & Zhao (2025), seed 000"
NOTES = "policy-adoption-notes"
# code: (year, certainty, source)
ADOPTION = {
    22: (2014, "confirmed", S000 + ": 2014 《关于在城市推行义务教育大学区管理的指导意见》, first provincial document"),
    31: (2015, "confirmed", S000 + " (2015); " + NOTES + "/notes_raw.txt: 上海市教委 实施意见, e-chinaedu.cn page of 2015-11-30"),
    11: (2018, "confirmed", NOTES + "/notes_pass2.txt: 市教委《关于推进中小学集团化办学的指导意见》 2018-10-11 (中国青年报/中新网 reprints)"),
    44: (2020, "confirmed", NOTES + ": 广东省教育厅等四部门《关于推进中小学幼儿园集团化办学的指导意见》 2020-08 (新华社 2020-08-24 reprints)"),
    33: (2020, "confirmed", NOTES + "/notes_pass2.txt: 浙教基〔2020〕70号 (四部门, 城乡义务教育共同体); year from document number; that this is the document the paper counts is probable, not certain"),
    15: (2023, "confirmed", NOTES + "/notes_pass2.txt: 内教发〔2023〕20号 《内蒙古自治区义务教育集团化办学指导意见》, cited by 阿拉善盟教育体育局 2024-06-17"),
    46: (2022, "identity-confirmed", S000 + " names 海南 (four departments); year 2022 from weak evidence: provincial push announced 2022-04 (中国教育新闻网 repost), document not found"),
    41: (2021, "identity-confirmed", S000 + " names 河南 (five departments); assumption: year 2021 by the schedule rule (README); a second batch of provincial groups named 2023-12 implies an earlier programme"),
    42: (2021, "identity-confirmed", S000 + " names 湖北; assumption: year 2021 by the schedule rule (README); no dated source found"),
    50: (2022, "identity-confirmed", S000 + " names 重庆; assumption: year 2022 by the schedule rule (README); no dated source found"),
    64: (2023, "identity-confirmed", S000 + " names 宁夏; assumption: year 2023 by the schedule rule (README); no dated source found"),
    32: (2018, "assumed", "assumption: one of the 3 unnamed eastern adopters (city-level evidence: 常州 2018 city document); year 2018 by the schedule rule (README)"),
    37: (2019, "assumed", "assumption: one of the 3 unnamed eastern adopters (city-level evidence: 滨州 2017, seed 003); year 2019 by the schedule rule (README)"),
    13: (2019, "assumed", "assumption: one of the 3 unnamed eastern adopters (city-level evidence: 石家庄 city document); year 2019 by the schedule rule (README)"),
}
NOT_ADOPTED_SRC = S000 + ": not among the 14 adopters by 2023-12 (identity for the eastern candidates 天津, 辽宁, 福建 assumed)"
EAST_CANDIDATES_NOT_CHOSEN = {12, 21, 35}


def read_csv(path):
    with open(os.path.join(SRC, path), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


CHECK = "--check" in sys.argv
OUTPUT = {}      # file name -> text this script produces


def emit(name, text):
    """Write a file, or in --check mode remember it for comparison."""
    OUTPUT[name] = text
    if not CHECK:
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)


def write_csv(name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    emit(name, buf.getvalue())


def fmt(x):
    """At most 4 decimals, no trailing zeros, never NaN/inf."""
    if x is None:
        return ""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        raise ValueError("non-finite value")
    s = "%.4f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def decimals(s):
    s = s.strip()
    return len(s.split(".")[1]) if "." in s else 0


provinces = [(int(r["code"]), r["name"]) for r in read_csv("admin-divisions/provinces.csv")]
short = {c: n[:2] for c, n in provinces}            # 2-char key, unique for the 31
by_short = {v: k for k, v in short.items()}
assert len(provinces) == 31 and len(by_short) == 31

# ---------------------------------------------------------------- units.csv
units = []
for code, name in provinces:
    reg = region_of(code)
    if code in ADOPTION:
        y, cert, src = ADOPTION[code]
    else:
        y, cert, src = None, ("assumed" if code in EAST_CANDIDATES_NOT_CHOSEN else "confirmed"), NOT_ADOPTED_SRC
    units.append((code, name, PINYIN[code], reg, y, cert, src))
write_csv("provinces.csv", ["code", "name", "name_en", "region", "adoption_year", "certainty", "source"], units)
adopt_year = {u[0]: u[4] for u in units}
region = {u[0]: u[3] for u in units}
# what the paper states about the adopters by 2023-12 (seed 000)
_adopters = [c for c, y in adopt_year.items() if y is not None and y <= 2023]
assert len(_adopters) == 14
assert [sum(1 for c in _adopters if region[c] == r) for r in ("east", "central", "west")] == [8, 3, 3]
assert not any(adopt_year[c] in (2016, 2017) for c in _adopters)
assert {22, 31, 11, 44, 33, 46, 41, 42, 50, 64, 15} <= set(_adopters)   # the 11 named
assert min(_adopters, key=lambda c: adopt_year[c]) == 22 and adopt_year[22] == 2014  # 吉林 first

# ---------------------------------------------------------------- contiguity.csv
EDGE_SRC = "province-adjacency/province_edges_31.csv (boundaries: YipChunKit/China_map_topojson c75d64ad)"
edges = []
seen = set()
for r in read_csv("province-adjacency/province_edges_31.csv"):
    a, b = int(r["code_a"]), int(r["code_b"])
    key = (min(a, b), max(a, b))
    assert a in PINYIN and b in PINYIN and key not in seen
    seen.add(key)
    edges.append((a, b, "land", EDGE_SRC))
edges.append((46, 44, "sea", "assumption: 海南 has no land neighbour; sea link to 广东 across the Qiongzhou Strait (modelling choice)"))
write_csv("contiguity.csv", ["unit_a", "unit_b", "type", "source"], edges)

# ---------------------------------------------------------------- subunits.csv
CITY_YEAR = {
    "杭州市": (2006, S000 + ": 杭州 first city (2006); also 杭州市委市政府 名校集团化战略 实施意见 2006 (" + NOTES + ")"),
    "滨州市": (2017, "seed 003: 滨政办发〔2017〕9号 《关于实施集团化办学推进城乡教育一体化发展的意见》"),
}
CITY_SRC = "admin-divisions/cities.csv (modood/Administrative-divisions-of-China 57a0aa9c, NBS 2019-10-31)"
cities = []
for r in read_csv("admin-divisions/cities.csv"):
    name = r["name"]
    if not name.endswith("市"):
        continue                                     # 市辖区, 县, 省直辖县级行政区划, 地区, 自治州, 盟
    p = int(r["provinceCode"])
    y, s = CITY_YEAR.get(name, (None, CITY_SRC + "; adoption year unknown"))
    cities.append((int(r["code"]), name, p, y, s))
assert len(cities) == 293, len(cities)
write_csv("cities.csv", ["code", "name", "parent", "adoption_year", "source"], cities)

# ---------------------------------------------------------------- city_counts.csv
TOTAL_2023 = 135
MAX_SHARE = 0.9375        # Table 2 max of city % (15 of 16)
n_cities = {c: 0 for c, _ in provinces}
known = {c: 0 for c, _ in provinces}
for code, name, p, y, s in cities:
    n_cities[p] += 1
    if y is not None and y <= 2023:
        known[p] += 1
weight = {c: n_cities[c] * (2.0 if adopt_year[c] is not None and adopt_year[c] <= 2023 else 1.0) for c in n_cities}
wsum = sum(weight.values())
target = {c: TOTAL_2023 * weight[c] / wsum for c in n_cities}
cap = {c: int(math.floor(MAX_SHARE * n_cities[c] + 1e-9)) for c in n_cities}
alloc = dict(known)
while sum(alloc.values()) < TOTAL_2023:
    # give the next city to the province furthest below its target (ties: lower code)
    cand = [c for c in n_cities if alloc[c] < cap[c]]
    c = max(cand, key=lambda c: (target[c] - alloc[c], -c))
    alloc[c] += 1
assert sum(alloc.values()) == TOTAL_2023

# Yearly path of each province's count (assumed shape, README "city_counts.csv"):
# count(p, y) = round(count(p, 2023) * F(y) / F(2023)), F logistic with
# midpoint M and scale S, never below the province's dated cities and equal to
# the 2023 split in 2023. M and S are chosen on a grid so that the city share
# over the paper's risk set (outcome years 2014-2023, share at the end of the
# year before) has the mean and sd of Table 2 (12.52, 17.03).
CITY_YEARS = list(range(2013, 2024))
TABLE2_CITY_MEAN, TABLE2_CITY_SD = 12.52, 17.03
dated_years = {}
for code, name, p, y, s in cities:
    if y is not None:
        dated_years.setdefault(p, []).append(y)


def city_path(m, s):
    f = lambda y: 1.0 / (1.0 + math.exp(-(y - m) / s))
    out = {}
    for c in n_cities:
        for y in CITY_YEARS:
            k = alloc[c] if y == 2023 else int(math.floor(alloc[c] * f(y) / f(2023) + 0.5))
            out[(c, y)] = max(k, sum(1 for d in dated_years.get(c, []) if d <= y))
    return out


def risk_rows():
    return [(c, t) for c in sorted(n_cities) for t in range(2014, 2024)
            if adopt_year[c] is None or adopt_year[c] >= t]


def city_pct(path, c, y):
    return 100.0 * path[(c, y)] / n_cities[c] if n_cities[c] else 0.0


def city_moments(path):
    xs = [city_pct(path, c, t - 1) for c, t in risk_rows()]
    mu = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))
    return mu, sd, max(xs)


best = None
for i in range(0, 301):                 # midpoint 2010.00 .. 2025.00
    m = 2010.0 + 0.05 * i
    for j in range(0, 91):              # scale 0.5 .. 5.0 years
        sc = 0.5 + 0.05 * j
        mu, sd, _ = city_moments(city_path(m, sc))
        loss = (mu - TABLE2_CITY_MEAN) ** 2 + (sd - TABLE2_CITY_SD) ** 2
        if best is None or loss < best[0] - 1e-12:
            best = (loss, m, sc)
CITY_M, CITY_S = best[1], best[2]
city_counts = city_path(CITY_M, CITY_S)
CITY_FIT = city_moments(city_counts)
for c in n_cities:
    for y in CITY_YEARS[1:]:
        assert city_counts[(c, y)] >= city_counts[(c, y - 1)]
assert sum(city_counts[(c, 2023)] for c in n_cities) == TOTAL_2023
write_csv("city_counts.csv", ["unit", "year", "adopted", "cities", "share_pct", "provenance"],
          [(c, y, city_counts[(c, y)], n_cities[c], fmt(city_pct(city_counts, c, y)), "assumed")
           for c, _ in provinces for y in CITY_YEARS])

# ---------------------------------------------------------------- documents.csv
docs = [
    (2012, 1, 1, "2012-06", "教育部", "《国家教育事业发展第十二个五年规划》", "sourced"),
    (2012, 1, 1, "2012-09-05", "国务院", "《关于深入推进义务教育均衡发展的意见》(国发〔2012〕48号)", "sourced"),
    (2017, 1, 1, "2017-09", "中共中央办公厅、国务院办公厅", "《关于深化教育体制机制改革的意见》", "sourced"),
    (2023, 1, 1, "2023-06", "中共中央办公厅、国务院办公厅", "《关于构建优质均衡的基本公共教育服务体系的意见》", "sourced"),
    (2023, 1, 1, "2023-07-26", "教育部、国家发展改革委、财政部", "《关于实施新时代基础教育扩优提质行动计划的意见》", "sourced"),
]
RECON_TITLE = "related central documents not individually identified (reconstructed count)"
# Cumulative count through 2013 = 3, through 2022 = 14 (seed 000, Table 2 min/max
# of the lag-1 variable). Rule: one unidentified document per year 2013-2022
# except 2017 (the dated 中办国办 document fills that year), two in 2021 and 2022.
recon = {2013: 1, 2014: 1, 2015: 1, 2016: 1, 2018: 1, 2019: 1, 2020: 1, 2021: 2, 2022: 2}
for y in sorted(recon):
    docs.append((y, recon[y], 1, "", "", RECON_TITLE, "assumed"))
docs.sort(key=lambda d: (d[0], d[6] != "sourced", d[3]))
cum = lambda t: sum(d[1] * d[2] for d in docs if d[0] <= t)
assert cum(2013) == 3 and cum(2022) == 14
write_csv("central_documents.csv", ["year", "count", "weight", "date", "issuer", "title", "provenance"], docs)
# Cumulative series through each year: sourced while every document counted is
# dated; 2013 (3) and 2022 (14) are the Table 2 min and max of the lag-1
# variable (derived); the other years depend on the assumed placement of the
# unidentified documents.
cum_rows = []
for y in range(2012, 2024):
    if all(d[6] == "sourced" for d in docs if d[0] <= y):
        prov = "sourced"
    elif y in (2013, 2022):
        prov = "derived"
    else:
        prov = "assumed"
    cum_rows.append((y, cum(y), sum(d[1] for d in docs if d[0] <= y and d[6] == "sourced"), y + 1, prov))
write_csv("central_documents_cumulative.csv",
          ["year", "cumulative", "dated_cumulative", "used_for_outcome_year", "provenance"], cum_rows)

# ---------------------------------------------------------------- panel.csv
ex = {}
for r in read_csv("nbs-provincial-2000-2019/extract_covariates_2013_2019.csv"):
    ex[(int(r["prov_code"]), int(r["year"]))] = r
pop = {}
for r in read_csv("nbs-provincial-2000-2019/raw/总人口.csv"):
    pop[(int(r["省份编码"]) // 10000, int(r["年份"]))] = float(r["年末常住人口(万人)"])
urb = {}
for r in read_csv("provincial-urbanization-tertiary/extract_urbanization_2013_2023.csv"):
    urb[(by_short[r["province"][:2]], int(r["year"]))] = r["urbanization_rate_pct"]
ter = {}
for r in read_csv("provincial-urbanization-tertiary/extract_tertiary_share_2013_2022.csv"):
    ter[(by_short[r["province"][:2]], int(r["year"]))] = r


def pct_prov(s):
    """A percentage with more than 2 decimals was computed from counts."""
    return "derived" if decimals(s) > 2 else "sourced"


VARS = ["schools", "students_pct", "resource_base_pct", "college_pct", "tertiary_pct",
        "edu_budget_pct", "urbanization_pct", "cities_pct", "region"]
RESOURCE_BASE = 55.38     # Table 2 mean; no provincial source available


def ols_slope(pts):
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


college_slope = {c: ols_slope([(y, float(ex[(c, y)]["college_plus_share_6plus_pct"])) for y in range(2013, NBS_LAST + 1)])
                 for c, _ in provinces}
panel = []
for code, _ in provinces:
    last = {}
    for y in YEARS:
        v, p = {}, {}
        e = ex.get((code, y))
        if e is not None:
            v["schools"] = float(e["compulsory_schools"]); p["schools"] = "derived"
            v["students_pct"] = 100.0 * float(e["compulsory_enrol_10k"]) / pop[(code, y)]
            p["students_pct"] = "derived"
            v["college_pct"] = float(e["college_plus_share_6plus_pct"]); p["college_pct"] = pct_prov(e["college_plus_share_6plus_pct"])
            v["edu_budget_pct"] = float(e["edu_exp_share_of_budget_exp_pct"]); p["edu_budget_pct"] = pct_prov(e["edu_exp_share_of_budget_exp_pct"])
            v["tertiary_pct"] = float(e["tertiary_share_pct"]); p["tertiary_pct"] = pct_prov(e["tertiary_share_pct"])
            v["urbanization_pct"] = float(e["urbanization_rate_pct"]); p["urbanization_pct"] = pct_prov(e["urbanization_rate_pct"])
        else:
            for k in ("schools", "students_pct", "edu_budget_pct"):
                v[k] = last[k]; p[k] = "imputed"            # carry forward the 2019 value
            # college share: 2019 value plus the province's 2013-2019 least-squares slope
            v["college_pct"] = min(100.0, max(0.0, last["college_pct"] + college_slope[code]))
            p["college_pct"] = "imputed"
            t = ter.get((code, y))
            if t is not None:
                if t["tertiary_share_pct"].strip():
                    v["tertiary_pct"] = float(t["tertiary_share_pct"]); p["tertiary_pct"] = pct_prov(t["tertiary_share_pct"])
                else:
                    v["tertiary_pct"] = float(t["tertiary_share_calc_pct"]); p["tertiary_pct"] = "derived"
            else:
                v["tertiary_pct"] = last["tertiary_pct"]; p["tertiary_pct"] = "imputed"
            u = urb[(code, y)]
            v["urbanization_pct"] = float(u)
            # the source imputed some 2022-2023 values by average growth; those carry many decimals
            p["urbanization_pct"] = "imputed" if (y >= 2022 and decimals(u) > 2) else "sourced"
        v["resource_base_pct"] = RESOURCE_BASE; p["resource_base_pct"] = "assumed"
        v["region"] = REGION_NUM[region[code]]; p["region"] = "derived"
        # the reconstructed path of city_counts.csv (0 for the municipalities)
        v["cities_pct"] = city_pct(city_counts, code, y); p["cities_pct"] = "assumed"
        last = v
        row = [code, y]
        for k in VARS:
            row.append(fmt(v[k]) if k != "region" else v[k])
        for k in VARS:
            row.append(p[k])
        panel.append(row)
write_csv("panel.csv", ["unit", "year"] + VARS + [k + "_provenance" for k in VARS], panel)

# ---------------------------------------------------------------- dataset.yaml
emit("dataset.yaml", """# Which file plays which role (pdsim help dataset). Written by build.py.
units: provinces.csv
subunits: cities.csv
subunit_counts: city_counts.csv
documents: central_documents.csv
contiguity: contiguity.csv
panel: panel.csv
""")

# ---------------------------------------------------------------- provenance counts
FLAGS = ["sourced", "derived", "imputed", "assumed"]


def tally(values):
    out = {f: 0 for f in FLAGS}
    for v in values:
        out[v] += 1
    return out


cert = {"confirmed": 0, "identity-confirmed": 0, "assumed": 0}
for u in units:
    if u[4] is not None:
        cert[u[5]] += 1
tab = []
# adoption years: a dated source = sourced; a named adopter with an assumed or
# weakly evidenced year, or an assumed adopter = assumed; non-adoption by 2023
# is sourced for the provinces the paper's regional listing excludes
tab.append(("provinces.csv adoption (adopters)", tally(
    ["sourced" if u[5] == "confirmed" else "assumed" for u in units if u[4] is not None])))
tab.append(("provinces.csv adoption (non-adopters)", tally(
    ["sourced" if u[5] == "confirmed" else "assumed" for u in units if u[4] is None])))
tab.append(("contiguity.csv pairs", tally(["derived" if e[2] == "land" else "assumed" for e in edges])))
tab.append(("cities.csv adoption years", tally(["sourced" for c in cities if c[3] is not None])))
tab.append(("city_counts.csv counts", tally(["assumed"] * len(city_counts))))
tab.append(("central_documents.csv rows", tally([d[6] for d in docs])))
tab.append(("central_documents_cumulative.csv", tally([r[4] for r in cum_rows])))
nv = len(VARS)
for k_i, k in enumerate(VARS):
    tab.append(("panel.csv " + k, tally([row[2 + nv + k_i] for row in panel])))
tab.append(("panel.csv, all values", tally([row[2 + nv + k_i] for row in panel for k_i in range(nv)])))
lines = ["| values | " + " | ".join(FLAGS) + " | total |", "|---" * (len(FLAGS) + 2) + "|"]
for name, t in tab:
    lines.append("| %s | %s | %d |" % (name, " | ".join(str(t[f]) for f in FLAGS), sum(t.values())))
lines.append("")
lines.append("Adopters by certainty: %d confirmed, %d identity-confirmed, %d assumed. "
             "City path: logistic midpoint %.2f, scale %.2f years; risk-set city share "
             "mean %.2f, sd %.2f, max %.2f (Table 2: 12.52, 17.03, 93.75)."
             % (cert["confirmed"], cert["identity-confirmed"], cert["assumed"], CITY_M, CITY_S,
                CITY_FIT[0], CITY_FIT[1], CITY_FIT[2]))
lines.append("National adopted cities at the end of each year: " + ", ".join(
    "%d: %d" % (y, sum(city_counts[(c, y)] for c in n_cities)) for y in CITY_YEARS) + ".")
BEGIN, END = "<!-- provenance counts: written by build.py -->", "<!-- end provenance counts -->"
with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
    readme = f.read()
a, b = readme.index(BEGIN), readme.index(END)
readme = readme[:a] + BEGIN + "\n" + "\n".join(lines) + "\n" + readme[b:]
emit("README.md", readme)

if CHECK:
    stale = []
    for name, text in sorted(OUTPUT.items()):
        try:
            with open(os.path.join(HERE, name), encoding="utf-8", newline="") as f:
                same = f.read() == text
        except FileNotFoundError:
            same = False
        if not same:
            stale.append(name)
    if stale:
        print("build.py --check: out of date (rerun build.py): " + ", ".join(stale), file=sys.stderr)
        sys.exit(1)
    print("build.py --check: %d files up to date" % len(OUTPUT))
