"""Plots of a `pdsim compare -o` file (group /compare, docs/compare.md): the
paired difference in national adopters per year with its 95% band, and each
unit's shift in P(adopted by a year), as intervals and as a tile map."""
import os

import h5py
import numpy as np
from matplotlib import colors as mcolors

from plot_common import InputError, attr_str, check_complete, need, shape_is, strings


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
        self.names = self._names()

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
        sub.append("0" if v == 0 else "%+.2f" % v if abs(v) >= 0.01 else
                   "%+.3f" % v if abs(v) >= 0.0005 else "±0.000")
        # outlined only when the shift is both significant and visible in
        # the label: a tiny shift with a tight interval is no news
        strong.append((cmp.p[1, i, k] > 0 or cmp.p[2, i, k] < 0) and abs(v) >= 0.0005)
    fig = out.figure("compare_map")
    ax = fig.add_axes([0.02, 0.1, 0.96, 0.82])
    draw_tiles(ax, run, pinyin, face, sub, strong)
    from plot_run import _mappable
    cax = fig.add_axes([0.25, 0.06, 0.5, 0.025])
    fig.colorbar(_mappable(cmap, norm), cax=cax, orientation="horizontal",
                 label="shift in P(adopted by %d), scenario - baseline" % yr)
    fig.suptitle("Shift in P(adopted by %d)" % yr, fontsize=13, y=0.97)
    fig.text(0.5, 0.925, "heavy outline: the 95%% interval excludes 0; %s vs baseline"
             % _scenario_name(cmp), ha="center", fontsize=8.5, color="#444444")
    out.save(fig, "compare_map")


def plot_all(cmp, out, year, run, pinyin):
    plot_national(cmp, out)
    labs = list(cmp.names)
    if run is not None and run.codes == cmp.codes:
        from plot_run import labels
        labs = labels(run, pinyin)
    plot_provinces(cmp, out, year, labs)
    if run is not None and sorted(run.codes) == sorted(cmp.codes):
        plot_map(cmp, out, year, run, pinyin)
    else:
        out.note("Comparison: no tile map of the shifts (give the baseline run file too).")
