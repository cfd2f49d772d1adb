"""Plots of a `pdsim compare -o` file (group /compare, docs/compare.md): the
paired difference in national adopters per year with its 95% band, the
baseline's and the scenario's fans overlaid (from the two run files the
comparison names), each unit's shift in P(adopted by a year), as intervals
and as a tile map, and each unit's shift in its mean adoption year."""
import os

import h5py
import numpy as np
from matplotlib import colors as mcolors

from plot_common import InputError, attr_str, check_complete, need, shape_is, strings


def shape_is_arr(path, name, arr, shape):
    if tuple(arr.shape) != tuple(shape):
        raise InputError("%s: %s has shape %s, expected %s"
                         % (path, name, tuple(arr.shape), tuple(shape)))


def shift_label(v):
    """A shift in P as printed on the map: 0 only for an exact zero."""
    if v == 0:
        return "0"
    if abs(v) >= 0.01:
        return "%+.2f" % v
    return "%+.3f" % v


def shown_nonzero(label):
    """Whether a printed shift reads as something other than zero."""
    return label != "0" and float(label) != 0.0


def significant(lo, hi):
    return lo > 0 or hi < 0


class CompareData:
    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            check_complete(f, path, "comparison file", version=False)
            need(f, path, ["compare/national_adopted_diff", "compare/p_adopted_by_year_diff",
                           "compare/years", "compare/province_code"])
            self.years = f["compare/years"][()].astype(int)
            self.codes = strings(f["compare/province_code"])
            U, Y = len(self.codes), len(self.years)
            shape_is(f, path, "compare/national_adopted_diff", (3, Y))
            shape_is(f, path, "compare/p_adopted_by_year_diff", (3, U, Y))
            self.national = f["compare/national_adopted_diff"][()]
            self.p = f["compare/p_adopted_by_year_diff"][()]
            # the year pdsim compare chose for its table (absent in older files)
            self.year = int(f.attrs["year"]) if "year" in f.attrs else None
            self.year_diff = (f["compare/mean_adoption_year_diff"][()]
                              if "compare/mean_adoption_year_diff" in f else None)
            self.gained = (f["compare/province_years_gained"][()]
                           if "compare/province_years_gained" in f else None)
            self.base_file = attr_str(f, "base_file")
            self.scenario_file = attr_str(f, "scenario_file")
            self.n_runs = int(f.attrs.get("n_runs", 0))
        if len(self.years) < 1:
            raise InputError("%s: /compare/years is empty" % path)
        if self.year_diff is not None:
            shape_is_arr(path, "compare/mean_adoption_year_diff", self.year_diff, (3, U))
        self.names = self._names()

    def run_file(self, which):
        """The path of the baseline or scenario run file this comparison
        names, where it can be found: as recorded (relative to the folder
        compare ran in: tried from here), else beside the comparison file,
        else None."""
        rec = self.base_file if which == "base" else self.scenario_file
        if not rec:
            return None
        here = os.path.dirname(os.path.abspath(self.path))
        for cand in (rec, os.path.join(here, rec), os.path.join(here, os.path.basename(rec))):
            if os.path.isfile(cand):
                return cand
        return None

    def _names(self):
        """Unit names from the baseline file when it is still where compare
        read it; else the codes."""
        try:
            if self.base_file and os.path.isfile(self.base_file):
                with h5py.File(self.base_file, "r") as f:
                    codes = strings(f["provinces/code"])
                    if codes == self.codes:
                        return strings(f["provinces/name"])
        except (OSError, KeyError):
            pass
        return list(self.codes)


def _scenario_name(cmp):
    return os.path.basename(cmp.scenario_file) or "scenario"


def plot_national(cmp, out):
    fig = out.figure("compare_national")
    ax = fig.add_axes([0.1, 0.13, 0.86, 0.72])
    m, lo, hi = cmp.national
    ax.fill_between(cmp.years, lo, hi, color="#e6550d", alpha=0.25, lw=0,
                    label="95% interval of the mean difference")
    ax.plot(cmp.years, m, color="#a63603", lw=2, marker="o", ms=4,
            label="mean paired difference")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("units adopted: scenario - baseline")
    ax.set_xticks(cmp.years if len(cmp.years) <= 16 else cmp.years[::2])
    ax.grid(color="#e5e5e5", lw=0.6)
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.set_title("Scenario minus baseline: units adopted by the end of each year\n"
                 "%s vs %s, %d paired runs" % (_scenario_name(cmp),
                                               os.path.basename(cmp.base_file) or "baseline",
                                               cmp.n_runs), fontsize=11)
    out.save(fig, "compare_national")


def plot_provinces(cmp, out, year, labs):
    k = int(np.argmin(np.abs(cmp.years - year)))
    yr = int(cmp.years[k])
    m, lo, hi = cmp.p[0, :, k], cmp.p[1, :, k], cmp.p[2, :, k]
    order = sorted(range(len(cmp.codes)), key=lambda u: (m[u], cmp.codes[u]))
    fig = out.figure("compare_provinces")
    ax = fig.add_axes([0.2, 0.09, 0.74, 0.83])
    n = len(order)
    for i, u in enumerate(order):
        color = "#a63603" if lo[u] > 0 or hi[u] < 0 else "#888888"
        ax.plot([lo[u], hi[u]], [i, i], color=color, lw=2)
        ax.plot([m[u]], [i], "o", color=color, ms=5)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(n))
    ax.set_yticklabels([labs[u] for u in order], fontsize=8 if n > 20 else 9)
    ax.set_ylim(-0.8, n - 0.2)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_xlabel("shift in P(adopted by the end of %d): scenario - baseline "
                  "(95%% interval; coloured when it excludes 0)" % yr, fontsize=9)
    ax.set_title("Per-unit shift in P(adopted by %d)" % yr, fontsize=12)
    out.save(fig, "compare_provinces")


def plot_map(cmp, out, year, run, pinyin):
    """The shift as a tile map, when the run file gives the layout."""
    from plot_run import draw_tiles
    k = int(np.argmin(np.abs(cmp.years - year)))
    yr = int(cmp.years[k])
    lim = max(0.05, float(np.max(np.abs(cmp.p[0, :, k]))))
    cmap = mcolors.LinearSegmentedColormap.from_list("d", ["#2166ac", "#f7f7f7", "#b2182b"])
    norm = mcolors.Normalize(-lim, lim)
    idx = {c: i for i, c in enumerate(cmp.codes)}
    face, sub, strong = [], [], []
    for u, code in enumerate(run.codes):
        i = idx[code]
        v = cmp.p[0, i, k]
        face.append(cmap(norm(v)))
        lab = shift_label(v)
        sub.append(lab)
        # outlined only when the interval excludes 0 and the printed shift is
        # not zero: "+0.000" with a tight interval is no news
        strong.append(significant(cmp.p[1, i, k], cmp.p[2, i, k]) and shown_nonzero(lab))
    fig = out.figure("compare_map")
    ax = fig.add_axes([0.02, 0.1, 0.96, 0.82])
    draw_tiles(ax, run, pinyin, face, sub, strong)
    from plot_run import _mappable
    cax = fig.add_axes([0.25, 0.06, 0.5, 0.025])
    fig.colorbar(_mappable(cmap, norm), cax=cax, orientation="horizontal",
                 label="shift in P(adopted by %d), scenario - baseline" % yr)
    fig.suptitle("Shift in P(adopted by %d)" % yr, fontsize=13, y=0.97)
    fig.text(0.5, 0.925, "heavy outline: the 95%% interval excludes 0 and the shift is not 0 "
             "at the printed precision; %s vs baseline"
             % _scenario_name(cmp), ha="center", fontsize=8.5, color="#444444")
    out.save(fig, "compare_map")


def _band(ax, x, lo, hi, color, alpha, label):
    ax.fill_between(x, lo, hi, color=color, alpha=alpha, lw=0, label=label)


def plot_fans(cmp, out, base, scen):
    """The national curves of both runs: median with the 50% and 90% bands
    of each (spread of outcomes, not the interval of the difference)."""
    fig = out.figure("compare_fans")
    ax = fig.add_axes([0.08, 0.1, 0.9, 0.8])
    obs = [int(y) for y in base.observed if 0 < y <= base.base]
    start = min([base.base - 5] + [y - 1 for y in obs])
    hist = np.arange(start, base.base + 1)
    cum = np.array([sum(1 for y in obs if y <= t) for t in hist])
    x = np.concatenate([[base.base], base.years])
    for run, color, dark, name in ((base, "#3b75af", "#1f4e79", "baseline"),
                                   (scen, "#e6550d", "#a63603", "scenario")):
        def ext(v):
            return np.concatenate([[cum[-1]], v])
        _band(ax, x, ext(run.q(0.05)), ext(run.q(0.95)), color, 0.14,
              "%s: 90%% of runs (5-95%%)" % name)
        _band(ax, x, ext(run.q(0.25)), ext(run.q(0.75)), color, 0.3,
              "%s: 50%% of runs (25-75%%)" % name)
        ax.plot(x, ext(run.q(0.5)), color=dark, lw=2.2, marker="o", ms=3.5,
                ls="-" if name == "baseline" else "--", label="%s: median" % name)
    ax.plot(hist, cum, color="black", lw=2.2, marker="o", ms=4,
            label="observed cumulative adopters")
    ax.axhline(base.U, color="#555555", lw=0.8, ls=":")
    ax.axvline(base.base + 0.5, color="#555555", lw=0.8, ls="--")
    ax.set_xlim(start - 0.6, base.last + 0.6)
    ax.set_ylim(0, base.U * 1.08)
    step = 1 if base.last - start <= 16 else 2
    ax.set_xticks(np.arange(start + (start % step), base.last + 1, step))
    ax.set_xlabel("year")
    ax.set_ylabel("units adopted by the end of the year")
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title("Baseline and scenario: units adopted, median and bands of the runs\n"
                 "%s vs %s, %d runs each" % (_scenario_name(cmp),
                                             os.path.basename(cmp.base_file) or "baseline",
                                             cmp.n_runs), fontsize=11)
    out.save(fig, "compare_fans")


def plot_year_shift(cmp, out, labs):
    """Each unit's mean paired shift in its adoption year with its 95%
    interval; units that cannot move (the same year in every run of both
    files: the difference is exactly 0 with an interval [0, 0]) are left out."""
    m, lo, hi = cmp.year_diff
    moved = [u for u in range(len(cmp.codes)) if not (m[u] == 0 and lo[u] == 0 and hi[u] == 0)]
    order = sorted(moved, key=lambda u: (m[u], cmp.codes[u]))
    fig = out.figure("compare_year_shift")
    ax = fig.add_axes([0.2, 0.09, 0.64, 0.83])
    n = max(1, len(order))
    for i, u in enumerate(order):
        yv = n - 1 - i
        num = "%+.2f" % m[u] if abs(m[u]) >= 0.005 else "%+.3f" % m[u]
        text = "%s years" % num
        strong = significant(lo[u], hi[u]) and float(num) != 0.0
        color = "#a63603" if strong else "#888888"
        ax.plot([lo[u], hi[u]], [yv, yv], color=color, lw=2, solid_capstyle="butt")
        ax.plot([m[u]], [yv], "o", color=color, ms=5)
        ax.text(1.01, yv, text.replace("-", "\u2212"), va="center", fontsize=8, color=color,
                transform=ax.get_yaxis_transform())
    ax.axvline(0, color="black", lw=0.8)
    if order:
        ax.set_yticks([n - 1 - i for i in range(len(order))])
        ax.set_yticklabels([labs[u] for u in order], fontsize=8.5)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no unit's adoption year changes in any run", transform=ax.transAxes,
                ha="center", va="center", fontsize=12, color="#444444")
    ax.set_ylim(-0.8, n - 0.2)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_xlabel("shift in mean adoption year, scenario - baseline, in years (negative: "
                  "earlier; 95% interval)", fontsize=9)
    left = len(cmp.codes) - len(order)
    ax.set_title("Per-unit shift in the mean adoption year\n(coloured where the interval "
                 "excludes 0; %d unit(s) that never move are not shown)" % left, fontsize=11)
    out.save(fig, "compare_year_shift")


def plot_all(cmp, out, year, run, pinyin):
    plot_national(cmp, out)
    import plot_run
    paths = {w: cmp.run_file(w) for w in ("base", "scenario")}
    if run is not None and paths["base"] is None:
        paths["base"] = run.path
    if all(paths.values()):
        try:
            base, scen = (plot_run.RunData(paths[w]) for w in ("base", "scenario"))
        except (InputError, OSError, KeyError) as e:
            base = scen = None
            out.note("Comparison: no overlay of the fans (%s)." % e)
        if base is not None and base.codes == scen.codes == cmp.codes:
            plot_fans(cmp, out, base, scen)
    else:
        out.note("Comparison: no overlay of the fans: run file %s not found (from here or "
                 "beside %s)." % (" and ".join(repr(getattr(cmp, w + "_file")) for w in paths
                                              if paths[w] is None), cmp.path))
    labs = list(cmp.names)
    if run is not None and run.codes == cmp.codes:
        from plot_run import labels
        labs = labels(run, pinyin)
    plot_provinces(cmp, out, year, labs)
    if cmp.year_diff is not None:
        plot_year_shift(cmp, out, labs)
    else:
        out.note("Comparison: no plot of the shift in mean adoption year (the file has no "
                 "/compare/mean_adoption_year_diff).")
    if run is not None and sorted(run.codes) == sorted(cmp.codes):
        plot_map(cmp, out, year, run, pinyin)
    else:
        out.note("Comparison: no tile map of the shifts (give the baseline run file too).")
