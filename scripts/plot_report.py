#!/usr/bin/python3
"""Plots and one index.html from pdsim result files. Normally run by
`pdsim report FILE.h5... -o DIR`, which checks the files and writes the CSV
summaries first; it can also be run directly:

    plot_report.py --out DIR [--run RUN.h5] [--compare DIFF.h5] [--sweep SWEEP.h5]
                   [--svg] [--pdf] [--year Y] [--pinyin] [--dataset DIR] [--tiles FILE] [--dpi N]
                   [--units-file F] [--documents-file F]

Exit status: 0 done, 1 failure while writing, 2 bad input (one message on
stderr naming the file, no traceback; PDSIM_DEBUG=1 shows one).
"""
import argparse
import html
import math
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse(argv):
    ap = argparse.ArgumentParser(prog="plot_report.py", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--run")
    ap.add_argument("--compare")
    ap.add_argument("--sweep")
    ap.add_argument("--svg", action="store_true")
    ap.add_argument("--pdf", action="store_true")
    ap.add_argument("--year", type=int)
    ap.add_argument("--pinyin", action="store_true")
    ap.add_argument("--dataset")
    ap.add_argument("--tiles")
    ap.add_argument("--units-file", help="the dataset's units file (default DATASET/units.csv)")
    ap.add_argument("--documents-file",
                    help="the dataset's documents file (default DATASET/documents.csv)")
    ap.add_argument("--dpi", type=int, default=100)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if not (a.run or a.compare or a.sweep):
        ap.error("give at least one of --run, --compare, --sweep")
    return a


def esc(x):
    return html.escape(str(x), quote=True)


def table(header, rows, cls=""):
    head = ""
    if header:
        head = "<thead><tr>%s</tr></thead>" % "".join("<th>%s</th>" % esc(c) for c in header)
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % esc(c) for c in r) for r in rows)
    return '<table class="%s">%s<tbody>%s</tbody></table>' % (cls, head, body)


CAPTIONS = {
    "s_curve": "Observed cumulative adopters to the base year (black), then the simulated "
               "median (line) with 50% and 90% bands; bars are new adoptions per year "
               "(observed, then the simulated mean).",
    "tile_map_p": "Each square is a unit in its approximate position; colour and number give "
                  "P(adopted by the end of the chosen year). Grey with a heavy outline: "
                  "adopted by the base year, with its year.",
    "tile_map_median": "The same map coloured by the median adoption year; the right end of "
                       "the scale means not adopted by the horizon in at least half the runs.",
    "adoption_years": "Each remaining unit's adoption year: median (circle), 25-75% (thick) "
                      "and 5-95% (thin), sorted by median; the grey column is 'after the "
                      "horizon'; the number on the right is P(adopted by the horizon).",
    "compare_national": "Paired difference, scenario minus baseline, in the number of units "
                        "adopted by the end of each year, with its 95% interval.",
    "compare_provinces": "Per-unit shift in P(adopted by the chosen year), scenario minus "
                         "baseline, with 95% intervals; coloured where the interval excludes 0.",
    "compare_map": "The same shifts on the tile map; heavy outline where the interval "
                   "excludes 0 and the printed shift is not 0.",
    "compare_fans": "The national curves of the baseline (blue) and the scenario (orange): "
                    "median and the bands holding 50% and 90% of the runs of each.",
    "compare_year_shift": "Per-unit shift in the mean adoption year, scenario minus baseline "
                          "(negative: earlier), with 95% intervals; a unit not adopted by the "
                          "horizon counts as the year after it.",
    "sweep_response": "Each design point's output against each swept parameter (dots), with "
                      "the mean response (line).",
    "sweep_sobol": "First-order and total Sobol indices per parameter and output, with 95% "
                   "bootstrap intervals.",
}


def run_tables(run, year):
    from plot_run import labels
    labs = labels(run, False)
    k = year - run.first
    nat = []
    for j, y in enumerate(run.years):
        nat.append([y, "%.2f" % run.mean[j], "%g" % run.q(0.5)[j],
                    "%g-%g" % (run.q(0.25)[j], run.q(0.75)[j]),
                    "%g-%g" % (run.q(0.05)[j], run.q(0.95)[j])])
    def yt(v):
        return str(v) if v else ">%d" % run.last

    # the forecast first, by median year; then the units adopted by the base
    # year, by their observed year, as a group of their own
    rest = sorted((u for u in range(run.U) if not run.adopted_at_start(u)),
                  key=lambda u: (run.year_quantile(u, 0.5) or run.last + 1, run.codes[u]))
    done = sorted((u for u in range(run.U) if run.adopted_at_start(u)),
                  key=lambda u: (run.observed[u], run.codes[u]))
    head = ["code", "name", "English", "status", "median year", "10-90%",
            "P(by %d)" % year, "P(by %d)" % run.last]
    body = []

    def row(cells):
        body.append("<tr>%s</tr>" % "".join("<td>%s</td>" % esc(c) for c in cells))

    def group(title):
        body.append('<tr class="group"><th colspan="%d">%s</th></tr>' % (len(head), esc(title)))

    if rest:
        group("Forecast: %d units not adopted by %d, by median year" % (len(rest), run.base))
    for u in rest:
        row([run.codes[u], labs[u], run.name_en.get(run.codes[u], ""), "forecast",
             yt(run.year_quantile(u, 0.5)),
             "%s-%s" % (yt(run.year_quantile(u, 0.1)), yt(run.year_quantile(u, 0.9))),
             "%.3f" % run.p[u, k], "%.3f" % run.p[u, -1]])
    if done:
        group("Observed: %d units adopted by %d, by year" % (len(done), run.base))
    for u in done:
        row([run.codes[u], labs[u], run.name_en.get(run.codes[u], ""),
             "observed %d" % run.observed[u], "", "", "1.000", "1.000"])
    units = ('<table class="num units"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>'
             % ("".join("<th>%s</th>" % esc(c) for c in head), "".join(body)))
    return (table(["year", "mean", "median", "50% band", "90% band"], nat, "num"), units)


def compare_tables(cmp):
    rows = []
    for j, y in enumerate(cmp.years):
        m, lo, hi = cmp.national[:, j]
        rows.append([y, "%+.3f" % m, "[%+.3f, %+.3f]" % (lo, hi)])
    out = table(["year", "difference in units adopted", "95% interval"], rows, "num")
    if cmp.gained is not None:
        out += "<p>Unit-years gained per run (adoption brought forward, summed over units): " \
               "%.3f [%.3f, %.3f].</p>" % tuple(cmp.gained)
    return out


def sweep_tables(sw):
    rows = [[n, "%g" % lo, "%g" % hi] for n, lo, hi in zip(sw.names, sw.lower, sw.upper)]
    out = table(["parameter", "lower", "upper"], rows)
    if sw.sobol is not None:
        outs, first, total = sw.sobol
        def cell(v):  # NaN: the output is the same at every point
            return "%.3f [%.3f, %.3f]" % tuple(v) if math.isfinite(v[0]) else "- (does not vary)"
        from plot_sweep import output_title
        srows = []
        for i, o in enumerate(outs):
            title = output_title(sw, o).replace("\n", " ")
            for j, n in enumerate(sw.names):
                srows.append([o if title == o else "%s (%s)" % (title, o), n,
                              cell(first[i, j]), cell(total[i, j])])
        out += table(["output", "parameter", "first order [95%]", "total [95%]"], srows)
    return out


BT_NAMES = ["this forecast", "model, channels off", "constant hazard", "logistic curve"]


def reliability_html(path, uncertainty):
    """The reliability panel of a forecast: the in-sample check, the
    rolling-origin backtest against the baselines and the data's provenance,
    from /reliability of the result file (what `pdsim run` prints)."""
    import h5py
    import numpy as np
    warn = []
    parts = ['<section class="reliability"><h3>Reliability of this forecast</h3>']
    with h5py.File(path, "r") as f:
        g = f.get("reliability")
        if g is None:
            parts.append("<p>This file has no reliability record.</p></section>")
            return "".join(parts)
        if "insample" in g and "insample_years" in g:
            yrs, v = g["insample_years"][()], g["insample"][()]
            rows = []
            for i in range(len(v)):
                last = i == len(v) - 1
                z = v[i, 4]
                bad = not last and not (abs(z) <= 2)
                rows.append(["all" if last else "%d-%d" % tuple(yrs[i]), "%d" % v[i, 0],
                             "%d" % v[i, 1], "%.2f" % v[i, 2], "%.2f" % v[i, 3],
                             "%+.2f%s" % (z, " (|z| > 2)" if bad else "")])
                if bad:
                    warn.append("The model does not reproduce the observed past: |z| > 2 in "
                                "%d-%d." % tuple(yrs[i]))
            parts.append("<p>In-sample check: observed adoptions against the sum of the "
                         "model's fitted hazards over the unit-years at risk.</p>")
            parts.append(table(["years", "at risk", "observed", "expected", "sd", "z"], rows,
                               "num"))
        if "backtest" in g and "backtest_setup" in g:
            b, m = g["backtest"][()], g["backtest_setup"][()]
            runs = int(g.attrs.get("backtest_runs", 0))
            rows = []
            for k in range(len(b)):
                cell = ""
                if k > 0:
                    d, se = b[k, 5], b[k, 6]
                    verdict = "no clear difference"
                    if np.isfinite(se) and abs(d) > 2 * se:
                        verdict = "this better" if d < 0 else "this worse"
                        if d > 0 and k >= 2:
                            warn.append("In the backtest this forecast scores worse than the "
                                        "%s beyond noise." % BT_NAMES[k])
                    cell = "%+.4f (%.4f) %s" % (d, se, verdict)
                rows.append([BT_NAMES[k], "%.4f" % b[k, 0], "%.4f" % b[k, 1], "%.4f" % b[k, 2],
                             cell, "%.3f" % b[k, 9]])
            parts.append("<p>Backtest: forecasts made at the end of %d..%d%s, scored on the "
                         "observed years to the base year (%d unit-years of %d units, %d runs "
                         "per origin). Lower scores are better; the difference is this "
                         "forecast minus the row, with its standard error clustered by unit; "
                         "better or worse only beyond 2 SE.</p>"
                         % (m[0], m[1], ", refitted at each origin" if m[2] else "", m[3],
                            m[4], runs))
            parts.append(table(["forecaster", "Brier", "log score", "RPS",
                                "this minus row (log score)", "stacking weight"], rows, "num"))
        else:
            parts.append("<p>Backtest: not done.</p>")
        prov = g.attrs.get("data_provenance")
        if prov is not None:
            prov = prov.decode() if isinstance(prov, bytes) else str(prov)
            parts.append("<p>Data provenance (values by source):</p><ul>%s</ul>"
                         % "".join("<li>%s</li>" % esc(x) for x in prov.splitlines() if x))
    if not uncertainty or uncertainty == "none":
        warn.append("No parameter uncertainty: the bands are Monte Carlo variation of a model "
                    "taken as exact, and are too narrow.")
    parts.append("<p>Parameter uncertainty: %s.</p>" % esc(uncertainty or "none"))
    for w in warn:
        parts.append('<p class="note">Warning: %s</p>' % esc(w))
    parts.append("</section>")
    return "".join(parts)


def figure_html(out, name):
    links = ""
    for ext, on in (("svg", out.svg), ("pdf", out.pdf)):
        if on:
            links += ' <a href="%s.%s">%s</a>' % (esc(name), ext, ext.upper())
    return ('<figure><img src="%s.png" alt="%s"><figcaption>%s%s</figcaption></figure>'
            % (esc(name), esc(name), esc(CAPTIONS.get(name, "")), links))


def write_html(a, out, run, cmp, sw, year):
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>pdsim report</title>", "<style>",
             "body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;"
             "color:#222}",
             "img{max-width:100%;border:1px solid #ddd}figure{margin:1.5em 0}",
             "figcaption{font-size:90%;color:#444}",
             "table{border-collapse:collapse;margin:0.8em 0;font-size:90%}",
             "td,th{border:1px solid #ccc;padding:2px 8px}th{background:#f0f0f0}",
             "table.num td{text-align:right}.note{color:#8a4b00}",
             "tr.group th{text-align:left;background:#e4e9f0}",
             "section.reliability{border:1px solid #ccc;padding:0 1em;background:#fafafa}",
             "</style></head><body>", "<h1>pdsim report</h1>"]
    for n in out.notes:
        parts.append('<p class="note">%s</p>' % esc(n))
    if run is not None:
        meta = [["file", run.path], ["runs", run.n_runs], ["seed", run.seed],
                ["base year", run.base], ["simulated", "%d-%d" % (run.first, run.last)],
                ["model", run.attrs["model_name"]],
                ["sub-unit model", run.attrs["subunit_model_name"]],
                ["scenario", run.attrs["scenario"] or "(none)"],
                ["coefficient uncertainty", run.attrs["uncertainty"] or "none"],
                ["dataset", run.attrs["dataset"]],
                ["pdsim", run.attrs["pdsim_version"]]]
        parts.append('<h2 id="forecast">Forecast</h2>')
        parts.append(table(None, meta))
        if run.attrs["uncertainty_warning"]:
            parts.append('<p class="note">%s</p>' % esc(run.attrs["uncertainty_warning"]))
        parts.append(reliability_html(run.path, run.attrs["uncertainty"]))
        for name in ("s_curve", "tile_map_p", "tile_map_median", "adoption_years"):
            if name in out.made:
                parts.append(figure_html(out, name))
        nat, units = run_tables(run, year)
        parts.append("<h3>National curve: units adopted by the end of each year</h3>" + nat)
        parts.append('<h3 id="units">Units</h3>' + units)
        csvdir = os.path.join(a.out, "csv")
        csvs = sorted(f for f in os.listdir(csvdir) if f.endswith(".csv")) \
            if os.path.isdir(csvdir) else []
        if csvs:
            parts.append("<p>The summaries as CSV (columns in docs/report.md): %s</p>"
                         % ", ".join('<a href="csv/%s">%s</a>' % (esc(f), esc(f))
                                     for f in csvs))
    if cmp is not None:
        parts.append('<h2 id="comparison">Scenario comparison</h2>')
        parts.append("<p>%s minus %s, %d paired runs.</p>"
                     % (esc(cmp.scenario_file), esc(cmp.base_file), cmp.n_runs))
        for name in ("compare_fans", "compare_national", "compare_year_shift",
                     "compare_provinces", "compare_map"):
            if name in out.made:
                parts.append(figure_html(out, name))
        parts.append(compare_tables(cmp))
    if sw is not None:
        parts.append('<h2 id="sweep">Sweep</h2>')
        parts.append("<p>%s: %s design, %d points x %d runs.</p>"
                     % (esc(sw.path), esc(sw.design or "?"), sw.n_points, sw.runs_per_point))
        for name in ("sweep_response", "sweep_sobol"):
            if name in out.made:
                parts.append(figure_html(out, name))
        parts.append(sweep_tables(sw))
    parts.append("</body></html>")
    from plot_common import write_replace

    page = ("\n".join(parts) + "\n").encode("utf-8")
    write_replace(os.path.join(a.out, "index.html"), lambda fh: fh.write(page))


def main(argv):
    a = parse(argv)
    # SIGTERM unwinds like an error, so that write_replace removes the
    # temporary file of the image being written
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    try:  # here, so that a missing module is one line, not a traceback
        import h5py  # noqa: F401
        import plot_common
        from plot_common import InputError, Output
    except ImportError as e:
        print("pdsim: error: %s: this Python lacks %s (install python3-h5py and "
              "python3-matplotlib, e.g. with scripts/install-deps.sh test)"
              % (sys.executable, e.name), file=sys.stderr)
        return 1

    try:
        os.makedirs(a.out, exist_ok=True)
        font = plot_common.setup_fonts()
        out = Output(a.out, dpi=a.dpi, svg=a.svg, pdf=a.pdf)
        import plot_compare
        import plot_run
        import plot_sweep
        loaded = {}
        for kind, path, load in (
                ("run", a.run, lambda p: plot_run.RunData(p, a.dataset, a.tiles, a.units_file,
                                                          a.documents_file)),
                ("compare", a.compare, plot_compare.CompareData),
                ("sweep", a.sweep, plot_sweep.SweepData)):
            if path:
                try:
                    loaded[kind] = load(path)
                except OSError as e:
                    raise InputError("%s: cannot read it as HDF5 (%s)" % (path, e))
        run, cmp, sw = loaded.get("run"), loaded.get("compare"), loaded.get("sweep")
        if run is not None:  # a bad layout is an error before any plot is drawn
            plot_run.read_tiles(run.tiles_path, run.codes)
        pinyin = a.pinyin
        if run is not None and not pinyin and not font and \
                any(plot_common.has_cjk(n) for n in run.names):
            out.note("No CJK font is installed (scripts/install-deps.sh installs one), so "
                     "units are labelled in pinyin.")
            pinyin = True
        if run is not None and pinyin and not run.name_en:
            out.note("No romanised names (column name_en of the units file) were found: "
                     "units are labelled by their codes.")
        years = run.years if run is not None else cmp.years if cmp is not None else sw.years
        if a.year is not None and not int(years[0]) <= a.year <= int(years[-1]):
            raise InputError("--year %d: expected a simulated year in %d..%d"
                             % (a.year, years[0], years[-1]))
        # Without --year each part picks its own year (docs/report.md): the
        # run's map the year its P(adopted) differs most across units, the
        # comparison the year pdsim compare chose (so that the report and
        # compare's table speak of the same year), the sweep the run's year
        run_year = a.year if a.year is not None else (
            plot_run.default_year(run) if run is not None else None)
        cmp_year = a.year if a.year is not None else (
            cmp.year if cmp is not None and cmp.year is not None else run_year)
        year = run_year if run_year is not None else cmp_year if cmp_year is not None \
            else int(years[len(years) // 2])
        if cmp is not None and cmp_year is None:
            cmp_year = year
        if run is not None:
            plot_run.plot_all(run, out, run_year, pinyin)
        if cmp is not None:
            plot_compare.plot_all(cmp, out, cmp_year, run, pinyin)
        if sw is not None:
            plot_sweep.plot_all(sw, out, year)
        write_html(a, out, run, cmp, sw, year)
    except InputError as e:
        print("pdsim: error: %s" % e, file=sys.stderr)
        return 2
    except (KeyError, ValueError, TypeError, IndexError) as e:
        if os.environ.get("PDSIM_DEBUG"):
            raise
        print("pdsim: error: unexpected contents in an input file (%s: %s); expected the "
              "layout of docs/output-format.md" % (type(e).__name__, e), file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 -- one line, not a traceback, for any failure
        if os.environ.get("PDSIM_DEBUG"):
            raise
        print("pdsim: error: writing the report failed (%s: %s); PDSIM_DEBUG=1 shows where"
              % (type(e).__name__, e), file=sys.stderr)
        return 1
    for n in out.notes:
        print("pdsim: note: %s" % n, file=sys.stderr)
    if not a.quiet:
        print("wrote %d plots and %s" % (len(out.made), os.path.join(a.out, "index.html")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
