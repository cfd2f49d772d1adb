"""Checks of `pdsim summary --csv` and `pdsim report`.

    report_test.py csv|plots|bad PDSIM_BINARY REPO_ROOT

csv:   the CSV export reads back exactly as the HDF5 summaries (plain, --bom,
       --runs), with the documented columns.
plots: every plot from small run, comparison and sweep files exists, decodes
       as a PNG of the expected size and is not blank; index.html links only
       files it ships; the tile map draws each of the 31 provinces exactly
       once; a dataset without a tile layout still gets a map of all units.
       The sweeps are real: tiny grid, LHS and Sobol sweeps of tests/data
       run by `pdsim sweep` here (about a second), read as merge writes them.
bad:   missing, damaged, incomplete and older-format files (also sweeps, and
       a sweep's part file) give exit 2 and one message, never a traceback.
"""
import csv
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

PDSIM, ROOT = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
sys.path.insert(0, os.path.join(ROOT, "scripts"))
CHINA = os.path.join(ROOT, "configs", "baseline.yaml")
SCEN = os.path.join(ROOT, "configs", "scenario-document-2026.yaml")
SMALL = os.path.join(ROOT, "tests", "data", "run.yaml")
US = os.path.join(ROOT, "configs", "us-lottery.yaml")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def pdsim(*args, env=None):
    return subprocess.run([PDSIM] + [str(a) for a in args], capture_output=True, text=True,
                          env=env)


def run_file(tmp, config, name, n=400, extra=()):
    out = os.path.join(tmp, name)
    r = pdsim("run", config, "-q", "-n", n, "-o", out, "--replace", *extra)
    if r.returncode != 0:
        raise SystemExit("cannot make %s: %s" % (name, r.stderr))
    return out


# Tiny sweeps of the small test dataset; unit A adopted before the base year,
# so its median year is the same at every point and its indices are NaN.
SWEEPS = {
    "grid": """design: grid
runs_per_point: 100
parameters:
  model.docs: {levels: [0.1, 0.6]}
  subunit_model.parent: {range: [0.5, 1.5], steps: 3}
""",
    "lhs": """design: lhs
points: 12
runs_per_point: 100
parameters:
  model.docs: {range: [0.0, 0.8]}
  subunit_model.parent: {range: [0.5, 1.5]}
  projection.size.years: {range: [2, 6]}
""",
    "sobol": """design: sobol
points: 8
runs_per_point: 100
random_numbers: common
bootstrap: 100
parameters:
  model.docs: {range: [0.0, 0.8]}
  model.intercept: {range: [-5.0, -3.0]}
  projection.default.years: {range: [2, 6]}
outputs: [national_adopted_2020, p_all_adopted, median_year_F, median_year_A]
""",
}


def sweep_file(tmp, design):
    """The merged file of a real sweep of tests/data (`pdsim sweep` with all
    points in one task merges it)."""
    yml = os.path.join(tmp, "sweep-%s.yaml" % design)
    with open(yml, "w") as fh:
        fh.write("config: %s\nseed: 3\n%s" % (SMALL, SWEEPS[design]))
    out = os.path.join(tmp, "sweep-%s.h5" % design)
    r = pdsim("sweep", yml, "-q", "-o", os.path.join(tmp, "sweep-%s.parts" % design), "-m", out)
    if r.returncode != 0:
        raise SystemExit("cannot make the %s sweep: %s" % (design, r.stderr))
    return out


def strs(ds):
    return [s.decode() if isinstance(s, bytes) else s for s in ds[()]]


# ------------------------------------------------------------------- csv
def read_csv(path, bom):
    with open(path, "rb") as fh:
        raw = fh.read()
    has_bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8") if has_bom else raw.decode("utf-8")
    rows = list(csv.reader(text.splitlines()))
    return has_bom == bom, rows[0], rows[1:]


def test_csv(tmp):
    h5 = run_file(tmp, CHINA, "china.h5", n=300)
    with h5py.File(h5, "r") as f:
        codes, names = strs(f["provinces/code"]), strs(f["provinces/name"])
        region = strs(f["provinces/region"])
        name_en = strs(f["provinces/name_en"])
        base_year = f.attrs["base_year"]
        obs = f["provinces/observed_adoption_year"][()]
        years = f["years"][()]
        p = f["summary/p_adopted_by_year"][()]
        q = f["summary/national_adopted"][()]
        levels = f["summary/national_adopted_quantiles"][()]
        mean = f["summary/national_adopted_mean"][()]
        count = f["summary/national_adopted_count"][()]
        runs = f["runs/province_adoption_year"][()]
    for bom in (False, True):
        d = os.path.join(tmp, "csv-bom" if bom else "csv")
        args = ["summary", h5, "--csv", d, "-q"] + (["--bom", "--runs"] if bom else [])
        r = pdsim(*args)
        tag = " (--bom --runs)" if bom else ""
        check("summary --csv exits 0" + tag, r.returncode == 0 and r.stdout == "", r.stderr)
        if r.returncode != 0:
            continue
        okb, head, rows = read_csv(os.path.join(d, "provinces.csv"), bom)
        check("provinces.csv: columns, BOM as asked, rows, not adopted as an empty cell" + tag,
              okb and head == ["code", "name", "name_en", "region", "observed_adoption_year"] and
              rows == [[c, n, e, g, str(int(o)) if o else ""]
                       for c, n, e, g, o in zip(codes, names, name_en, region, obs)])
        # forecast.csv against its definition, computed here from the runs
        okb, head, rows = read_csv(os.path.join(d, "forecast.csv"), bom)
        ry = [2025, 2030, 2035]
        ok = okb and head == ["code", "name", "name_en", "region", "status",
                              "observed_adoption_year", "median_year", "q10_year",
                              "q90_year"] + ["p_adopted_by_%d" % y for y in ry]
        ok = ok and len(rows) == len(codes)
        base = int(base_year)
        for u, r_ in enumerate(rows if ok else []):
            col = runs[:, u]
            adopted = [(col != 0) & (col <= y) for y in years]
            observed = obs[u] != 0 and obs[u] <= base

            def qyear(q):
                for k, y in enumerate(years):
                    if adopted[k].mean() >= q:
                        return str(int(y))
                return ""
            want = [codes[u], names[u], name_en[u], region[u],
                    "observed" if observed else "forecast",
                    str(int(obs[u])) if observed else ""]
            want += [str(int(obs[u]))] * 3 if observed else [qyear(0.5), qyear(0.1), qyear(0.9)]
            ok = ok and r_[:9] == want
            ok = ok and all(abs(float(r_[9 + i]) - adopted[list(years).index(y)].mean()) < 1e-12
                            for i, y in enumerate(ry))
            if not ok:
                print("    row", r_, "expected", want)
        check("forecast.csv: status, median and 10-90% years (empty = after the horizon) and "
              "P(adopted by 2025, 2030, 2035) as computed from the runs" + tag, ok, str(head))
        ok = ok and any(r_[5] == "" for r_ in rows) and any(r_[5] != "" for r_ in rows)
        check("forecast.csv: empty observed year for units not adopted" + tag, ok)
        okb, head, rows = read_csv(os.path.join(d, "province_year.csv"), bom)
        ok = okb and head == ["code", "name", "year", "p_adopted"] and len(rows) == p.size
        ok = ok and [(r_[0], r_[1], int(r_[2])) for r_ in rows] == [
            (c, names[i], int(y)) for i, c in enumerate(codes) for y in years]
        got = np.array([float(r_[3]) for r_ in rows]).reshape(p.shape) if ok else None
        check("province_year.csv reads back exactly as /summary/p_adopted_by_year" + tag,
              ok and np.array_equal(got, p), "" if ok else str(head))
        okb, head, rows = read_csv(os.path.join(d, "national_year.csv"), bom)
        qcols = ["q%02d" % round(100 * lv) for lv in levels]
        ok = okb and head == ["year", "mean"] + qcols and len(rows) == len(years)
        ok = ok and [int(r_[0]) for r_ in rows] == list(years)
        ok = ok and np.array_equal(np.array([float(r_[1]) for r_ in rows]), mean)
        ok = ok and np.array_equal(np.array([[float(x) for x in r_[2:]] for r_ in rows]).T, q)
        check("national_year.csv reads back exactly as the national mean and quantiles" + tag,
              ok, str(head))
        okb, head, rows = read_csv(os.path.join(d, "national_count.csv"), bom)
        ok = okb and head == ["year", "adopted", "runs"] and len(rows) == count.size
        got = np.array([int(r_[2]) for r_ in rows], dtype=np.uint64).reshape(count.shape) \
            if ok else None
        ok = ok and [(int(r_[0]), int(r_[1])) for r_ in rows] == [
            (int(y), c) for y in years for c in range(len(codes) + 1)]
        check("national_count.csv reads back exactly as /summary/national_adopted_count" + tag,
              ok and np.array_equal(got, count))
        runs_csv = os.path.join(d, "runs.csv")
        if bom:
            okb, head, rows = read_csv(runs_csv, bom)
            ok = okb and head == ["run", "code", "adoption_year"] and len(rows) == runs.size
            ok = ok and all(int(r_[0]) == i // len(codes) and r_[1] == codes[i % len(codes)]
                            for i, r_ in enumerate(rows))
            got = np.array([int(r_[2]) if r_[2] else 0 for r_ in rows]).reshape(runs.shape) \
                if ok else None
            ok = ok and all((r_[2] == "") == (int(runs.flat[i]) == 0) for i, r_ in enumerate(rows))
            check("runs.csv reads back exactly as /runs/province_adoption_year",
                  ok and np.array_equal(got, runs))
        else:
            check("runs.csv only with --runs", not os.path.exists(runs_csv))
        left = [x for x in os.listdir(d) if ".tmp" in x]
        check("no temporary files left" + tag, not left, str(left))
    r = pdsim("summary", h5)
    check("summary prints the table", r.returncode == 0 and "National curve" in r.stdout and
          "新疆" in r.stdout, r.stderr)
    r = pdsim("summary", h5, "--bom")
    check("--bom without --csv is a usage error", r.returncode == 2 and "--csv" in r.stderr)


# ----------------------------------------------------------------- plots
SIZES = {  # pixels at the default 100 dpi
    "s_curve": (1000, 600), "tile_map_p": (800, 800), "tile_map_median": (800, 800),
    "adoption_years": (900, 800), "compare_national": (900, 500),
    "compare_provinces": (900, 800), "compare_map": (800, 800),
    "compare_fans": (1000, 600), "compare_year_shift": (900, 800),
    "sweep_response": (1200, 700), "sweep_sobol": (1000, 600),
}


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href"):
                self.refs.append(v)


def check_png(path, size):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    if not os.path.isfile(path):
        return "missing"
    with open(path, "rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            return "not a PNG"
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    if (w, h) != size:
        return "size %dx%d, expected %dx%d" % (w, h, size[0], size[1])
    grey = img[..., :3].mean(axis=2)
    if grey.var() < 1e-3:
        return "blank (pixel variance %.2g)" % grey.var()
    if (grey < 0.9).mean() < 0.02:
        return "almost empty (%.1f%% non-white)" % (100 * (grey < 0.9).mean())
    return None


def check_html(d):
    with open(os.path.join(d, "index.html"), encoding="utf-8") as fh:
        p = Links()
        p.feed(fh.read())
    bad = []
    for ref in p.refs:
        if re.match(r"^[a-z]+:", ref) or ref.startswith("/") or ".." in ref.split("/") or \
                not os.path.isfile(os.path.join(d, ref)):
            bad.append(ref)
    return p.refs, bad


def test_plots(tmp):
    base = run_file(tmp, CHINA, "base.h5")
    scen = run_file(tmp, SCEN, "scen.h5")
    diff = os.path.join(tmp, "diff.h5")
    r = pdsim("compare", base, scen, "-o", diff, "-q")
    if r.returncode != 0:
        raise SystemExit("compare failed: " + r.stderr)
    sweep = sweep_file(tmp, "sobol")
    d = os.path.join(tmp, "report")
    r = pdsim("report", base, diff, sweep, "-o", d, "--svg", "--pdf")
    first_stderr = r.stderr
    check("report of a run, a comparison and a sweep exits 0", r.returncode == 0, r.stderr)
    check("no traceback, no missing glyphs", "Traceback" not in r.stderr and
          "missing from current font" not in r.stderr, r.stderr[-2000:])
    for name, size in SIZES.items():
        err = check_png(os.path.join(d, name + ".png"), size)
        check("%s.png exists, decodes, %dx%d, not blank" % ((name,) + size), err is None, err)
        check("%s.svg written with --svg" % name, os.path.isfile(os.path.join(d, name + ".svg")))
    refs, bad = check_html(d)
    want = {n + ".png" for n in SIZES}
    check("index.html shows every plot", want <= set(refs), str(want - set(refs)))
    check("index.html links the CSV summaries it ships",
          any(x.startswith("csv/") and x.endswith(".csv") for x in refs), str(refs))
    check("index.html references only files it ships", not bad, str(bad))
    page = open(os.path.join(d, "index.html"), encoding="utf-8").read()
    with h5py.File(base, "r") as f:
        bt = f["reliability/backtest"][()]
        q = f["reliability/insample"][()]
    check("index.html shows the reliability panel: in-sample check and backtest",
          "Reliability of this forecast" in page and
          ("<td>%.2f</td>" % q[-1, 2]) in page and
          ("<td>constant hazard</td><td>%.4f</td>" % bt[2, 0]) in page, page[:300])

    # the tile map: each of the 31 provinces drawn exactly once, at distinct tiles
    with h5py.File(base, "r") as f:
        codes = strs(f["provinces/code"])
    with open(os.path.join(d, "tile_map_p.svg"), encoding="utf-8") as fh:
        svg = fh.read()
    tiles = re.findall(r'id="tile-([^"]+)"', svg)
    labels_ = re.findall(r'id="label-([^"]+)"', svg)
    check("tile map draws 31 provinces, each exactly once",
          len(codes) == 31 and sorted(tiles) == sorted(codes) and
          sorted(labels_) == sorted(codes), "%d tiles, %d labels" % (len(tiles), len(labels_)))
    import plot_run
    run = plot_run.RunData(base)
    pos, _, geo = plot_run.tile_positions(run)
    check("tile layout from the dataset: 31 distinct positions",
          geo and sorted(pos) == sorted(codes) and len(set(pos.values())) == 31)
    check("tile labels in Chinese", "北京" in svg and "新疆" in svg)

    d2 = os.path.join(tmp, "report-pinyin")
    r = pdsim("report", base, "-o", d2, "--pinyin", "--year", 2026, "-q", "--svg")
    ok = r.returncode == 0 and r.stdout == ""
    refs, bad = check_html(d2) if ok else ([], ["(no page)"])
    check("--pinyin --year: plots and page", ok and not bad and all(
        check_png(os.path.join(d2, n + ".png"), SIZES[n]) is None
        for n in ("s_curve", "tile_map_p", "tile_map_median", "adoption_years")), r.stderr)
    with open(os.path.join(d2, "index.html"), encoding="utf-8") as fh:
        page = fh.read() if ok else ""
    check("--year shown in the page", "P(by 2026)" in page)
    svg = open(os.path.join(d2, "tile_map_p.svg"), encoding="utf-8").read() if ok else ""
    check("--pinyin labels the tiles with the dataset's romanised names",
          "Beijing" in svg and "Xinjiang" in svg and "北京" not in svg)
    svg = open(os.path.join(d, "s_curve.svg"), encoding="utf-8").read()
    check("the S-curve marks the first central document of the dataset (2012)",
          "first central document" in svg and "(2012)" in svg)

    # a dataset with no tile layout: every unit still placed once, with a note
    small = run_file(tmp, SMALL, "small.h5", n=200)
    d3 = os.path.join(tmp, "report-small")
    r = pdsim("report", small, "-o", d3, "--svg", "-q")
    ok = r.returncode == 0
    check("a dataset without tiles.csv: report exits 0", ok, r.stderr)
    if ok:
        with h5py.File(small, "r") as f:
            scodes = strs(f["provinces/code"])
        with open(os.path.join(d3, "tile_map_p.svg"), encoding="utf-8") as fh:
            tiles = re.findall(r'id="tile-([^"]+)"', fh.read())
        check("  ... every unit drawn once in a grid", sorted(tiles) == sorted(scodes),
              str(tiles))
        check("  ... and the page says why", "no tile layout" in
              open(os.path.join(d3, "index.html"), encoding="utf-8").read())
        check("  ... plots not blank", all(check_png(os.path.join(d3, n + ".png"), SIZES[n])
                                           is None for n in ("s_curve", "tile_map_p")))
    # every unit adopted before the start: nothing to forecast, still a report
    data = os.path.join(tmp, "data")
    shutil.copytree(os.path.join(ROOT, "tests", "data"), data)
    units = os.path.join(data, "small", "units.csv")
    with open(units, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("adoption_year")
    for r_ in rows[1:]:
        r_[col] = r_[col] or "2014"
    with open(units, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    done = run_file(tmp, os.path.join(data, "run.yaml"), "done.h5", n=50)
    d5 = os.path.join(tmp, "report-done")
    r = pdsim("report", done, "-o", d5, "-q")
    check("every unit adopted by the base year: report exits 0 with every plot",
          r.returncode == 0 and all(os.path.isfile(os.path.join(d5, n + ".png")) for n in
                                    ("s_curve", "tile_map_p", "tile_map_median",
                                     "adoption_years")), r.stderr)
    check_sweeps(tmp, sweep, d, first_stderr)
    check_details(tmp, base, diff, d)


def svg_comments(path):
    """The strings of an SVG written with svg.fonttype 'path': matplotlib
    draws text as outlines and keeps each string in a comment."""
    with open(path, encoding="utf-8") as fh:
        return re.findall(r"<!-- (.*?) -->", fh.read())


def tile_outlines(path):
    """{code: True when drawn with the heavy outline} from a tile-map SVG."""
    with open(path, encoding="utf-8") as fh:
        svg = fh.read()
    out = {}
    for code, style in re.findall(r'<g id="tile-([^"]+)">\s*<path [^>]*style="([^"]*)"', svg):
        out[code] = "stroke: #222222" in style
    return out


def check_details(tmp, base, diff, d):
    """What a reader sees: the units table, the map's year, labels, titles,
    the comparison's plots and outlines, PDF and SVG output, the US layout."""
    import plot_run
    page = open(os.path.join(d, "index.html"), encoding="utf-8").read()
    run = plot_run.RunData(base)
    # the map year: the first year in which P differs most across the units
    # not adopted by the base year, computed here from the file
    rest = [u for u in range(run.U) if not (0 < run.observed[u] <= run.base)]
    var = run.p[rest].var(axis=0)
    want_year = int(run.years[int(np.flatnonzero(var == var.max())[0])])
    svg = " ".join(svg_comments(os.path.join(d, "tile_map_p.svg")))
    check("default map year = first year of largest spread of P across units (%d)" % want_year,
          ("P(adopted by %d) per unit" % want_year) in svg, svg[:200])
    # the units table: forecast rows first (by median), then the observed
    # adopters as a group; every probability with three decimals
    body = page[page.index('<h3 id="units">Units</h3>'):]
    body = body[:body.index("</table>")]
    status = re.findall(r"<td>(forecast|observed \d{4})</td>", body)
    nobs = sum(1 for u in range(run.U) if 0 < run.observed[u] <= run.base)
    check("units table: %d forecast rows, then the %d observed adopters grouped"
          % (run.U - nobs, nobs),
          len(status) == run.U and status == sorted(status, key=lambda x: x != "forecast") and
          sum(x != "forecast" for x in status) == nobs and
          body.count('class="group"') == 2, str(status))
    rows = re.findall(r"<tr><td>.*?</tr>", body)
    probs = [re.findall(r"<td>([^<]*)</td>", r_)[-2:] for r_ in rows]
    check("units table: every P cell has three decimals (no '1' beside '1.000')",
          len(probs) == run.U and all(re.fullmatch(r"[01]\.\d{3}", x) for p_ in probs for x in p_),
          str(probs[:5]))
    # labels: never below the minimum size; the longest romanised names fit
    # (wrapped), none is shortened
    room = 45.0
    ok = True
    for name in list(run.name_en.values()) + ["Inner Mongolia", "Heilongjiang", "Massachusetts"]:
        text, size = plot_run.fit_label(name, room)
        ok = ok and size >= 8.0 and not text.endswith(".") and \
            all(plot_run._text_width(x, size) <= room for x in text.split("\n"))
    text, size = plot_run.fit_label("Abcdefghijklmnopqrstuvwxyz", room)
    check("tile labels: at least %g pt, wrapped to fit, shortened only when nothing else "
          "fits" % plot_run.MIN_FONT,
          ok and plot_run.MIN_FONT == 8.0 and size == 8.0 and text.endswith("."))
    d2 = os.path.join(tmp, "report-pinyin")
    svg = svg_comments(os.path.join(d2, "tile_map_p.svg"))
    check("--pinyin: long names wrapped, not shrunk or cut (Inner / Mongolia)",
          "Inner" in svg and "Mongolia" in svg and not any(x.endswith(".") for x in svg))
    # SVG text as outlines (no font needed to view it); PDF beside every PNG
    check("SVG text drawn as paths (svg.fonttype 'path'): no <text> elements",
          all("<text" not in open(os.path.join(d, n + ".svg"), encoding="utf-8").read()
              for n in SIZES))
    pdfs = [n for n in SIZES if open(os.path.join(d, n + ".pdf"), "rb").read(5) == b"%PDF-"] \
        if all(os.path.isfile(os.path.join(d, n + ".pdf")) for n in SIZES) else []
    check("--pdf writes every plot as PDF, linked from the page",
          len(pdfs) == len(SIZES) and all(('href="%s.pdf"' % n) in page for n in SIZES))
    # the comparison: mean-year shifts as stored by compare, printed per unit
    with h5py.File(diff, "r") as f:
        yd = f["compare/mean_adoption_year_diff"][()]
        pd_ = f["compare/p_adopted_by_year_diff"][()]
        cyears = list(f["compare/years"][()])
        cyear = int(f.attrs["year"])
    txt = svg_comments(os.path.join(d, "compare_year_shift.svg"))
    moved = [u for u in range(yd.shape[1]) if not (yd[:, u] == 0).all()]
    want = [("%+.2f" % yd[0, u] if abs(yd[0, u]) >= 0.005 else "%+.3f" % yd[0, u])
            .replace("-", "\u2212") + " years" for u in moved]
    check("year-shift plot: one row per unit that moves, with its mean shift in years",
          len(moved) > 0 and sorted(x for x in txt if x.endswith(" years")) == sorted(want),
          str(txt[:8]))
    txt = svg_comments(os.path.join(d, "compare_fans.svg"))
    check("fan overlay: baseline and scenario bands", any("baseline: 90%" in x for x in txt) and
          any("scenario: 90%" in x for x in txt), str(txt[:10]))
    # outlines: only where the interval excludes 0 and the printed shift is
    # not zero; a doctored file adds a '+0.000' shift with an interval > 0
    fake = os.path.join(tmp, "diff-tiny.h5")
    shutil.copy(diff, fake)
    k = cyears.index(cyear)
    with h5py.File(fake, "r+") as f:
        p = f["compare/p_adopted_by_year_diff"]
        arr = p[()]
        arr[:, 0, k] = (0.0003, 0.0001, 0.0005)   # "+0.000", interval excludes 0
        arr[:, 1, k] = (0.2, 0.1, 0.3)            # a real shift
        arr[:, 2, k] = (0.2, -0.1, 0.5)           # not significant
        p[...] = arr
        codes = strs(f["provinces/code"]) if "provinces/code" in f else \
            strs(f["compare/province_code"])
    d3 = os.path.join(tmp, "report-tiny")
    r = pdsim("report", base, fake, "-o", d3, "--svg", "-q")
    outl = tile_outlines(os.path.join(d3, "compare_map.svg")) if r.returncode == 0 else {}
    expect = {c: (arr[1, i, k] > 0 or arr[2, i, k] < 0) and
              round(arr[0, i, k], 2 if abs(arr[0, i, k]) >= 0.01 else 3) != 0
              for i, c in enumerate(codes)}
    check("shift map: '+0.000' not outlined, a real shift outlined, every tile as its interval "
          "and printed value say", r.returncode == 0 and len(outl) == len(codes) and
          not outl[codes[0]] and outl[codes[1]] and not outl[codes[2]] and outl == expect,
          r.stderr + str({c: v for c, v in outl.items() if v != expect.get(c)}))
    # the US dataset ships a tile layout: 50 states on distinct squares
    us = run_file(tmp, US, "us.h5", n=100)
    d4 = os.path.join(tmp, "report-us")
    r = pdsim("report", us, "-o", d4, "--svg", "-q")
    urun = plot_run.RunData(us, dataset=os.path.join(ROOT, "data", "us-state-lottery"))
    pos, lab, geo = plot_run.tile_positions(urun)
    rows = read_csv_dicts(os.path.join(ROOT, "data", "us-state-lottery", "tiles.csv"))
    check("US report: the dataset's tile layout, 50 states on distinct squares, labelled by "
          "code, every row with its provenance",
          r.returncode == 0 and geo and len(pos) == 50 and len(set(pos.values())) == 50 and
          "no tile layout" not in open(os.path.join(d4, "index.html"), encoding="utf-8").read()
          and all(lab[c] == c for c in urun.codes) and
          all(x["provenance"].startswith("position assumed") for x in rows), r.stderr)


def read_csv_dicts(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def check_sweeps(tmp, sobol, d, stderr):
    """The sweep part of the report against the merged files themselves."""
    import plot_sweep
    with h5py.File(sobol, "r") as f:
        names, outs = strs(f["design/names"]), strs(f["sobol/outputs"])
        first, total = f["sobol/first_order"][()], f["sobol/total"][()]
        pts, nat = f["design/points"][()], f["points/national_adopted_mean"][()]
    sw = plot_sweep.SweepData(sobol)
    check("the plots read the merged Sobol sweep as written: names, points, means, indices",
          sw.names == names and np.array_equal(sw.points, pts) and
          np.array_equal(sw.national, nat) and sw.sobol[0] == outs and
          np.array_equal(sw.sobol[1], first, equal_nan=True) and
          np.array_equal(sw.sobol[2], total, equal_nan=True) and
          sw.n_points == 8 * (len(names) + 2) and sw.base_samples == 8)
    check("an output that does not vary (median_year_A) has NaN indices in the file",
          np.isnan(first[3, :, 0]).all() and np.isfinite(first[:3, :, 0]).all())
    page = open(os.path.join(d, "index.html"), encoding="utf-8").read()
    want = ["%.3f [%.3f, %.3f]" % tuple(first[i, j]) for i in range(3) for j in range(3)]
    check("the page lists every first-order index of the file with its interval",
          all(w in page for w in want) and all(n in page for n in names + outs),
          str([w for w in want if w not in page]))
    txt = svg_comments(os.path.join(d, "sweep_sobol.svg"))
    check("Sobol panel titles in words, with the unit's name, not internal IDs",
          not any(x.startswith("median_year_") or x.startswith("national_adopted_") for x in txt)
          and "mean units adopted" in txt and "median adoption year:" in txt and
          any(re.fullmatch(r".+ \(F\)", x) for x in txt), str(txt[:12]))
    check("the output that does not vary is noted, not an error",
          "median_year_A does not vary" in stderr and "median_year_A does not vary" in page)
    for design in ("grid", "lhs"):
        path = sweep_file(tmp, design)
        dd = os.path.join(tmp, "report-" + design)
        r = pdsim("report", path, "-o", dd, "--svg")
        sw = plot_sweep.SweepData(path)
        with h5py.File(path, "r") as f:
            same = np.array_equal(sw.points, f["design/points"][()]) and \
                np.array_equal(sw.p_all, f["points/p_all_adopted"][()]) and \
                sw.design == design and sw.sobol is None
        check("a real %s sweep (no Sobol indices): response plot, no Sobol plot" % design,
              r.returncode == 0 and same and
              check_png(os.path.join(dd, "sweep_response.png"), SIZES["sweep_response"]) is None
              and not os.path.exists(os.path.join(dd, "sweep_sobol.png")), r.stderr)
        # one column per parameter: its name under the bottom row
        svg = open(os.path.join(dd, "sweep_response.svg"), encoding="utf-8").read() \
            if r.returncode == 0 else ""
        check("  ... one column per swept parameter, named",
              all(n.split(".")[-1] in svg for n in sw.names), str(sw.names))


# ------------------------------------------------------------------- bad
def test_bad(tmp):
    good = run_file(tmp, SMALL, "good.h5", n=100)
    cases = {}
    cases["missing"] = (os.path.join(tmp, "nope.h5"), "cannot read")
    trunc = os.path.join(tmp, "truncated.h5")
    with open(good, "rb") as a, open(trunc, "wb") as b:
        b.write(a.read(1500))
    cases["truncated"] = (trunc, "not an HDF5 file")
    text = os.path.join(tmp, "text.h5")
    with open(text, "w") as fh:
        fh.write("year,adopted\n")
    cases["text"] = (text, "not an HDF5 file")
    def edited(src, name, edit):  # a copy of src changed by edit(h5py.File)
        path = os.path.join(tmp, name)
        shutil.copy(src, path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def set_attr(key, value):
        return lambda f: f.attrs.modify(key, value)

    cases["incomplete"] = (edited(good, "incomplete.h5", set_attr("complete", np.uint8(0))),
                           "incomplete")
    cases["older format"] = (edited(good, "old.h5", set_attr("format_version", np.int64(0))),
                             "format version 0, expected 1")
    cases["no format version"] = (edited(good, "noversion.h5",
                                         lambda f: f.attrs.__delitem__("format_version")),
                                  "format_version")
    cases["summary dataset missing"] = (edited(good, "nosummary.h5",
                                               lambda f: f.__delitem__("summary/national_adopted_mean")),
                                        "/summary/national_adopted_mean")
    real = sweep_file(tmp, "grid")
    cases["incomplete sweep"] = (edited(real, "sweep-incomplete.h5", set_attr("complete", np.uint8(0))),
                                 "incomplete sweep")
    cases["older sweep"] = (edited(real, "sweep-old.h5", set_attr("format_version", np.int64(0))),
                            "version 0, expected 1")
    cases["sweep without /points"] = (edited(real, "sweep-no-points.h5",
                                             lambda f: f.__delitem__("points")),
                                      "missing datasets")
    parts = os.path.join(tmp, "sweep-grid.parts")
    cases["sweep part"] = (os.path.join(parts, sorted(os.listdir(parts))[0]), "pdsim merge")
    for name, (path, text_) in cases.items():
        verbs = [("report", ["-o", os.path.join(tmp, "r-" + name.replace(" ", "_"))])]
        if "sweep" not in name:
            verbs.append(("summary", ["--csv", os.path.join(tmp, "c-" + name.replace(" ", "_"))]))
        for verb, extra in verbs:
            r = pdsim(verb, path, *extra)
            ok = r.returncode == 2 and text_ in r.stderr and "Traceback" not in r.stderr and \
                os.path.basename(path) in r.stderr
            check("%s: %s file gives exit 2 and a message" % (verb, name), ok,
                  "exit %d: %s" % (r.returncode, r.stderr.strip()[:300]))
    r = pdsim("summary", real)
    check("summary of a sweep file: exit 0, prints its design",
          r.returncode == 0 and "design grid" in r.stdout, r.stderr)
    for name in ("incomplete sweep", "sweep part", "sweep without /points"):
        path, text_ = cases[name]
        r = pdsim("summary", path, "--csv", os.path.join(tmp, "c-" + name.replace(" ", "_")))
        check("summary: %s file gives exit 2 and a message, no CSV" % name,
              r.returncode == 2 and os.path.basename(path) in r.stderr and
              ("incomplete" in r.stderr if name == "incomplete sweep" else True) and
              not os.path.exists(os.path.join(tmp, "c-" + name.replace(" ", "_"), "points.csv")),
              "exit %d: %s" % (r.returncode, r.stderr.strip()[:300]))
    # the script on its own also refuses bad input without a traceback
    script = os.path.join(ROOT, "scripts", "plot_report.py")
    for name in ("incomplete", "older format", "truncated"):
        r = subprocess.run([sys.executable, script, "--out", os.path.join(tmp, "s"), "--run",
                            cases[name][0]], capture_output=True, text=True)
        check("plot_report.py alone: %s file gives exit 2, no traceback" % name,
              r.returncode == 2 and "Traceback" not in r.stderr and "pdsim: error" in r.stderr,
              r.stderr[-300:])
    # tile layouts: two units on one square, a unit twice, a missing file
    china = run_file(tmp, CHINA, "china.h5", n=50)
    for name, text_, lines in (
            ("two units on one square", "tiles.csv:3: tile (0, 0) already holds unit 11",
             ["code,row,col", "11,0,0", "12,0,0"]),
            ("a unit twice", "tiles.csv:3: unit 11 appears twice",
             ["code,row,col", "11,0,0", "11,0,1"]),
            ("a non-integer row", "tiles.csv:2: expected columns code,row,col",
             ["code,row,col", "11,north,0"])):
        tdir = os.path.join(tmp, "t-" + name.replace(" ", "_"))
        os.makedirs(tdir)
        with open(os.path.join(tdir, "tiles.csv"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
        r = pdsim("report", china, "-o", os.path.join(tdir, "r"), "--tiles",
                  os.path.join(tdir, "tiles.csv"))
        check("tile layout with %s: exit 2 naming file and line" % name,
              r.returncode == 2 and text_ in r.stderr and "Traceback" not in r.stderr,
              r.stderr.strip()[-300:])
    r = pdsim("report", china, "-o", os.path.join(tmp, "t-none"), "--tiles",
              os.path.join(tmp, "no-tiles.csv"))
    check("--tiles naming no file: exit 2", r.returncode == 2 and "no-tiles.csv" in r.stderr)
    # a layout that knows only some units: the others in a row below, each once
    part = os.path.join(tmp, "part-tiles.csv")
    with open(part, "w") as fh:
        fh.write("code,row,col\n11,0,0\n12,0,1\n")
    import plot_run
    run = plot_run.RunData(china, tiles=part)
    pos, _, geo = plot_run.tile_positions(run)
    check("a partial layout: every unit placed once, on distinct squares, rest below",
          geo and sorted(pos) == sorted(run.codes) and len(set(pos.values())) == run.U and
          pos["11"] == (0, 0) and all(pos[c][0] >= 2 for c in run.codes if c not in ("11", "12")))

    r = pdsim("report", good)
    check("report without -o is a usage error", r.returncode == 2)
    r = pdsim("report", good, good, "-o", os.path.join(tmp, "x"))
    check("two run files are refused", r.returncode == 2 and "second run" in r.stderr)
    r = pdsim("report", good, "-o", os.path.join(tmp, "y"), "--year", "20x5")
    check("a bad --year is a usage error", r.returncode == 2 and "--year" in r.stderr)
    r = pdsim("report", good, "-o", os.path.join(tmp, "z"), "--year", "1990")
    check("a --year outside the simulated years is refused",
          r.returncode == 2 and "--year 1990" in r.stderr and "Traceback" not in r.stderr,
          r.stderr)


def main():
    what = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="pdsim-report-")
    try:
        {"csv": test_csv, "plots": test_plots, "bad": test_bad}[what](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
