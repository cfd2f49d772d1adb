"""Plots of one pdsim run result file: the S-curve fan chart, the tile map
(grid cartogram) of the units, and the per-unit adoption-year intervals.
Used by plot_report.py; see docs/report.md."""
import math
import os

import h5py
import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.patches import Rectangle

from plot_common import (InputError, attr_num, attr_str, check_complete, has_cjk, need,
                         read_csv, shape_is, strings)


class RunData:
    """The summaries of a finished run file, plus what its dataset folder
    adds when it can be found: English names, the first central document
    and the tile layout."""

    def __init__(self, path, dataset=None, tiles=None, units_file=None, documents_file=None):
        self.path = path
        with h5py.File(path, "r") as f:
            check_complete(f, path, "result file (was the run interrupted?)")
            need(f, path, ["provinces/code", "provinces/name", "provinces/observed_adoption_year",
                           "years", "summary/p_adopted_by_year", "summary/national_adopted",
                           "summary/national_adopted_quantiles", "summary/national_adopted_mean"])
            self.n_runs = int(attr_num(f, path, "n_runs"))
            self.seed = int(attr_num(f, path, "seed"))
            self.base = int(attr_num(f, path, "base_year"))
            self.first = int(attr_num(f, path, "first_year"))
            self.last = int(attr_num(f, path, "last_year"))
            self.attrs = {k: attr_str(f, k) for k in
                          ("model_name", "subunit_model_name", "scenario", "pdsim_version",
                           "dataset", "config_path", "uncertainty", "uncertainty_warning")}
            self.codes = strings(f["provinces/code"])
            self.names = strings(f["provinces/name"])
            U, Y = len(self.codes), self.last - self.first + 1
            shape_is(f, path, "provinces/name", (U,))
            shape_is(f, path, "provinces/observed_adoption_year", (U,))
            shape_is(f, path, "years", (Y,))
            shape_is(f, path, "summary/p_adopted_by_year", (U, Y))
            self.observed = f["provinces/observed_adoption_year"][()].astype(int)
            self.years = f["years"][()].astype(int)
            self.p = f["summary/p_adopted_by_year"][()]
            self.levels = f["summary/national_adopted_quantiles"][()]
            Q = len(self.levels)
            shape_is(f, path, "summary/national_adopted", (Q, Y))
            shape_is(f, path, "summary/national_adopted_mean", (Y,))
            self.quant = f["summary/national_adopted"][()]
            self.mean = f["summary/national_adopted_mean"][()]
        if list(self.years) != list(range(self.first, self.last + 1)):
            raise InputError("%s: /years is not first_year .. last_year" % path)
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            if not np.any(np.isclose(self.levels, q)):
                raise InputError("%s: /summary/national_adopted_quantiles lacks %g" % (path, q))
        self.U = len(self.codes)
        self.dataset = dataset or self.attrs["dataset"]
        self.dataset_missing = None
        if self.dataset and not os.path.isdir(self.dataset):
            if dataset:
                raise InputError("--dataset %s: not a folder" % dataset)
            self.dataset_missing = self.dataset
            self.dataset = None
        # files by their generic names unless the caller resolved the
        # dataset's dataset.yaml (pdsim report does)
        self.units_file = units_file or (os.path.join(self.dataset, "units.csv")
                                         if self.dataset else None)
        self.documents_file = documents_file or (os.path.join(self.dataset, "documents.csv")
                                                 if self.dataset else None)
        self.name_en = self._english_names()
        self.first_document = self._first_document()
        if tiles and not os.path.isfile(tiles):
            raise InputError("--tiles %s: no such file" % tiles)
        self.tiles_path = tiles or (os.path.join(self.dataset, "tiles.csv")
                                    if self.dataset else None)

    def q(self, level):
        return self.quant[int(np.argmin(np.abs(self.levels - level)))]

    def adopted_at_start(self, u):
        return 0 < self.observed[u] <= self.base

    def year_quantile(self, u, level):
        """The level-quantile of unit u's adoption year (inverse CDF of
        P(adopted by year)); None when it lies after last_year."""
        idx = np.nonzero(self.p[u] >= level)[0]
        return int(self.years[idx[0]]) if len(idx) else None

    def _english_names(self):
        if not self.units_file:
            return {}
        try:
            rows = read_csv(self.units_file)
        except OSError:
            return {}
        return {r["code"]: r["name_en"] for r in rows if r.get("name_en")}

    def _first_document(self):
        if not self.documents_file:
            return None
        try:
            rows = read_csv(self.documents_file)
        except OSError:
            return None
        years = []
        for r in rows:
            try:
                if float(r.get("count") or 0) > 0:
                    years.append(int(r["year"]))
            except (KeyError, ValueError):
                continue
        return min(years) if years else None


def labels(run, pinyin, short=None):
    """One label per unit: Chinese (or the dataset's own) names, shortened by
    the tile layout's label column when it has one, or the romanised names
    with pinyin (the code where a unit has none)."""
    if pinyin:
        return [run.name_en.get(c, c) for c in run.codes]
    short = short or {}
    return [short.get(c) or n for c, n in zip(run.codes, run.names)]


# ------------------------------------------------------------------ S-curve
def plot_s_curve(run, out):
    obs_years = [int(y) for y in run.observed if 0 < y <= run.base]
    starts = [run.base - 5]
    if obs_years:
        starts.append(min(obs_years) - 1)
    if run.first_document:
        starts.append(run.first_document - 1)
    start = min(starts)
    hist = np.arange(start, run.base + 1)
    cum = np.array([sum(1 for y in obs_years if y <= t) for t in hist])
    new_obs = np.diff(np.concatenate([[0], cum]))
    new_obs[0] = cum[0]

    fig = out.figure("s_curve")
    ax = fig.add_axes([0.08, 0.1, 0.9, 0.8])
    sim_x = np.concatenate([[run.base], run.years])

    def ext(v):
        return np.concatenate([[cum[-1]], v])

    ax.fill_between(sim_x, ext(run.q(0.05)), ext(run.q(0.95)), step=None, color="#3b75af",
                    alpha=0.18, lw=0, label="simulated 90% band (5-95%)")
    ax.fill_between(sim_x, ext(run.q(0.25)), ext(run.q(0.75)), color="#3b75af", alpha=0.38,
                    lw=0, label="simulated 50% band (25-75%)")
    ax.plot(sim_x, ext(run.q(0.5)), color="#1f4e79", lw=2.2, marker="o", ms=3.5,
            label="simulated median")
    ax.plot(hist, cum, color="black", lw=2.2, marker="o", ms=4,
            label="observed cumulative adopters")
    later = [int(y) for y in run.observed if y > run.base]
    if later:  # a hindcast: what happened after the base year, for comparison
        lx = np.arange(run.base + 1, min(max(later), run.last) + 1)
        ly = [cum[-1] + sum(1 for y in later if y <= t) for t in lx]
        ax.plot(lx, ly, color="black", lw=1, ls=":", marker="o", mfc="white", ms=5,
                label="observed after the base year (not used by the forecast)")
    mean_new = np.diff(np.concatenate([[cum[-1]], run.mean]))
    ax.bar(hist, new_obs, width=0.7, color="#7f7f7f", alpha=0.75, label="observed new adoptions")
    ax.bar(run.years, mean_new, width=0.7, color="#9ecae1", edgecolor="#3b75af", lw=0.6,
           label="simulated new adoptions (mean)")
    ax.axhline(run.U, color="#555555", lw=0.8, ls=":")
    ax.text(start - 0.4, run.U + 0.3, "all %d units" % run.U, fontsize=8, color="#555555",
            va="bottom")
    ax.axvline(run.base + 0.5, color="#555555", lw=0.8, ls="--")
    ax.text(run.base + 0.5, run.U * 1.02, "observed | simulated ", fontsize=8, color="#555555",
            ha="center", va="bottom")
    if run.first_document:
        ax.axvline(run.first_document, color="#b2182b", lw=1.2, ls="-.")
        ax.text(run.first_document + 0.15, run.U * 0.5,
                "first central document\n(%d)" % run.first_document, color="#b2182b",
                fontsize=9, va="top")
    else:
        out.note("S-curve: the year of the first central document is not marked (no "
                 "documents file in the dataset folder%s; give it with --dataset)."
                 % (" %s, not found from here" % run.dataset_missing
                    if run.dataset_missing else ""))
    ax.set_xlim(start - 0.6, run.last + 0.6)
    ax.set_ylim(0, run.U * 1.08)
    ax.set_xlabel("year")
    ax.set_ylabel("units adopted (cumulative); new adoptions per year")
    step = 1 if run.last - start <= 16 else 2
    ax.set_xticks(np.arange(start + (start % step), run.last + 1, step))
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(0.1, 0.92), fontsize=8, frameon=False)
    ax.set_title("Adopters: observed to %d, simulated %d-%d (%d runs)"
                 % (run.base, run.first, run.last, run.n_runs), fontsize=12)
    out.save(fig, "s_curve")


# ----------------------------------------------------------------- tile map
OBSERVED_FACE = "#d9d9d9"

def read_tiles(path, codes):
    """{code: (row, col)} and {code: label} from a layout CSV with columns
    code,row,col[,label]; (None, None, reason) when there is no usable one."""
    if not path:
        return None, None, "no dataset folder found (give --dataset or --tiles)"
    try:
        rows = read_csv(path)
    except OSError:
        return None, None, "no tile layout %s" % path
    pos, lab, seen = {}, {}, {}
    for i, r in enumerate(rows, start=2):
        try:
            code, row, col = r["code"], int(r["row"]), int(r["col"])
        except (KeyError, TypeError, ValueError):
            raise InputError("%s:%d: expected columns code,row,col with integer row and col"
                             % (path, i))
        if code in pos:
            raise InputError("%s:%d: unit %s appears twice" % (path, i, code))
        if (row, col) in seen:
            raise InputError("%s:%d: tile (%d, %d) already holds unit %s"
                             % (path, i, row, col, seen[(row, col)]))
        pos[code] = (row, col)
        seen[(row, col)] = code
        if r.get("label"):
            lab[code] = r["label"]
    known = [c for c in codes if c in pos]
    if not known:
        return None, None, "%s places none of these units" % path
    return pos, lab, None


def tile_positions(run, out=None):
    """Every unit's tile (row, col), exactly one each, and short labels.
    Units the layout lacks go in a row below it; with no layout at all the
    units are laid out in a square grid in file order."""
    pos, lab, why = read_tiles(run.tiles_path, run.codes)
    if pos is None:
        ncol = max(1, math.ceil(math.sqrt(run.U)))
        if out:
            out.note("Tile map: %s, so the units are shown in a grid in file order." % why)
        return {c: (i // ncol, i % ncol) for i, c in enumerate(run.codes)}, {}, False
    placed = {c: pos[c] for c in run.codes if c in pos}
    rest = [c for c in run.codes if c not in pos]
    if rest:
        row = max(r for r, _ in placed.values()) + 2
        for i, c in enumerate(rest):
            placed[c] = (row + i // 8, i % 8)
        if out:
            out.note("Tile map: %d unit(s) not in %s, shown in the bottom row: %s"
                     % (len(rest), run.tiles_path, ", ".join(rest)))
    return placed, lab, True


MIN_FONT = 8.0  # points: no tile label is drawn smaller; longer ones wrap, then shorten


def _text_width(text, size):
    """Width in points of one line of text at size, in the labels' font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath
    w, _, _ = TextToPath().get_text_width_height_descent(text, FontProperties(size=size), False)
    return w


def _breaks(name):
    """Two-line splits of a label: at each space or hyphen, and inside a
    word before a consonant that starts a syllable (a consonant followed by
    a vowel: Heilong-jiang, Guang-dong), with a hyphen added there."""
    out = []
    for i, ch in enumerate(name):
        if ch == " " and 0 < i < len(name) - 1:
            out.append((name[:i], name[i + 1:]))
        elif ch == "-" and 0 < i < len(name) - 1:
            out.append((name[:i + 1], name[i + 1:]))
    vowels = "aeiouüAEIOUÜ"
    for i in range(2, len(name) - 2):
        a, b, c = name[i - 1], name[i], name[i + 1]
        if a.isalpha() and b.isalpha() and c in vowels and b not in vowels and \
                b.lower() not in "hgr" + ("" if a in vowels else "n"):
            out.append((name[:i] + "-", name[i:]))
    return out


def fit_label(name, width, start=10.0):
    """(text, size) for a tile label in width points: one line at the
    largest size from start down to MIN_FONT that fits; else two lines
    (split at a space or hyphen, else between syllables with a hyphen) at
    MIN_FONT; else shortened with a '.' at MIN_FONT. Never smaller than
    MIN_FONT."""
    size = start
    while size >= MIN_FONT:
        if _text_width(name, size) <= width:
            return name, size
        size -= 0.5
    best = None
    for lines in _breaks(name):
        w = max(_text_width(x, MIN_FONT) for x in lines)
        if w <= width and (best is None or w < best[0]):
            best = (w, "\n".join(lines))
    if best:
        return best[1], MIN_FONT
    cut = name
    while len(cut) > 1 and _text_width(cut + ".", MIN_FONT) > width:
        cut = cut[:-1]
    return cut.rstrip() + ".", MIN_FONT


def draw_tiles(ax, run, pinyin, face, sub, edge_strong, out=None):
    """One square per unit at its layout position, filled with face[u], a
    second line sub[u], and a heavy outline where edge_strong[u]. Labels
    are at least MIN_FONT points: a long one wraps or is shortened."""
    pos, short, geo = tile_positions(run, out)
    labs = labels(run, pinyin, short)
    rows = max(r for r, _ in pos.values()) + 1
    cols = max(c for _, c in pos.values()) + 1
    size = 1.0
    # points per data unit, as the axes will be drawn (equal aspect)
    box = ax.get_position()
    fw, fh = ax.figure.get_size_inches()
    scale = 72.0 * min(box.width * fw / (cols + 0.2), box.height * fh / (rows + 0.2))
    room = 0.9 * (size - 0.08) * scale
    shortened = []
    for u, code in enumerate(run.codes):
        r, c = pos[code]
        x, y = c * size, (rows - 1 - r) * size
        rect = Rectangle((x + 0.04, y + 0.04), size - 0.08, size - 0.08, facecolor=face[u],
                         edgecolor="#222222" if edge_strong[u] else "#999999",
                         lw=2.4 if edge_strong[u] else 0.6, gid="tile-%s" % code)
        ax.add_patch(rect)
        rgb = mcolors.to_rgb(face[u])
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.5
        tc = "white" if dark else "black"
        name = labs[u]
        text, fs = fit_label(name, room, 10.0 if has_cjk(name) else 9.0)
        if text.endswith(".") and not name.endswith("."):
            shortened.append("%s = %s" % (text, name))
        two = "\n" in text
        ax.text(x + size / 2, y + (0.64 if two else 0.62) * size, text, ha="center",
                va="center", fontsize=fs, color=tc, gid="label-%s" % code,
                linespacing=1.15)
        ax.text(x + size / 2, y + 0.27 * size, sub[u], ha="center", va="center",
                fontsize=MIN_FONT, color=tc)
    if shortened and out:
        out.note("Tile map: labels shortened to fit their squares: %s." % "; ".join(shortened))
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(-0.1, rows + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return geo


def default_year(run):
    """The year the P(adopted by year) map shows when --year is not given:
    the first simulated year in which P(adopted by the end of the year)
    differs most across the units not adopted by the base year (the largest
    variance across them), so that the map is neither nearly all pale nor
    nearly all 1.00. Without such units (or when P is the same for all of
    them every year), the first multiple of 5 from the middle of the
    simulated years, at most last_year."""
    rest = [u for u in range(run.U) if not run.adopted_at_start(u)]
    if rest:
        spread = run.p[rest].var(axis=0)
        k = int(np.argmax(spread))  # the first of equal maxima
        if spread[k] > 0:
            return int(run.years[k])
    mid = (run.first + run.last) / 2.0
    return min(run.last, int(5 * math.ceil(mid / 5.0)))


def plot_tile_map_p(run, out, year, pinyin):
    k = year - run.first
    cmap = mcolors.LinearSegmentedColormap.from_list("p", ["#f7fbff", "#6baed6", "#08306b"])
    norm = mcolors.Normalize(0, 1)
    face, sub, strong = [], [], []
    for u in range(run.U):
        v = run.p[u, k]
        if run.adopted_at_start(u):
            face.append(OBSERVED_FACE)
            sub.append("%d" % run.observed[u])
        else:
            face.append(cmap(norm(v)))
            sub.append("%.2f" % v)
        strong.append(run.adopted_at_start(u))
    fig = out.figure("tile_map_p")
    ax = fig.add_axes([0.02, 0.1, 0.96, 0.82])
    geo = draw_tiles(ax, run, pinyin, face, sub, strong, out)
    cax = fig.add_axes([0.25, 0.06, 0.5, 0.025])
    sm = _mappable(cmap, norm)
    fig.colorbar(sm, cax=cax, orientation="horizontal",
                 label="P(adopted by the end of %d)" % year)
    fig.suptitle("P(adopted by %d) per unit%s" % (year, "" if geo else " (no map layout)"),
                 fontsize=13, y=0.97)
    fig.text(0.5, 0.925, "grey, heavy outline: adopted by %d (observed), with its year; %d runs"
             % (run.base, run.n_runs), ha="center", fontsize=8.5, color="#444444")
    out.save(fig, "tile_map_p")


def plot_tile_map_median(run, out, pinyin):
    years = list(range(run.first, run.last + 2))  # last + 1 = not adopted by last_year
    cmap = matplotlib.colormaps["viridis"]
    norm = mcolors.Normalize(run.first, run.last + 1)
    face, sub, strong = [], [], []
    for u in range(run.U):
        if run.adopted_at_start(u):
            face.append(OBSERVED_FACE)
            sub.append("%d" % run.observed[u])
            strong.append(True)
            continue
        m = run.year_quantile(u, 0.5)
        face.append(cmap(norm(m if m else run.last + 1)))
        sub.append(str(m) if m else ">%d" % run.last)
        strong.append(False)
    fig = out.figure("tile_map_median")
    ax = fig.add_axes([0.02, 0.1, 0.96, 0.82])
    geo = draw_tiles(ax, run, pinyin, face, sub, strong, out)
    cax = fig.add_axes([0.2, 0.06, 0.6, 0.025])
    cb = fig.colorbar(_mappable(cmap, norm), cax=cax, orientation="horizontal",
                      label="median adoption year (right end: not adopted by %d)" % run.last)
    ticks = years[:: max(1, math.ceil(len(years) / 7))]
    if ticks[-1] != years[-1]:
        ticks.append(years[-1])
    cb.set_ticks(ticks)
    cb.set_ticklabels([str(t) if t <= run.last else ">%d" % run.last for t in ticks])
    fig.suptitle("Median adoption year per unit%s" % ("" if geo else " (no map layout)"),
                 fontsize=13, y=0.97)
    fig.text(0.5, 0.925, "grey, heavy outline: adopted by %d (observed), with its year; "
             "%d runs" % (run.base, run.n_runs), ha="center", fontsize=8.5, color="#444444")
    out.save(fig, "tile_map_median")


def _mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable
    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


# ------------------------------------------------------ adoption-year plot
def plot_adoption_years(run, out, pinyin):
    labs = labels(run, pinyin)
    rest = [u for u in range(run.U) if not run.adopted_at_start(u)]
    after = run.last + 1

    def key(u):
        m = run.year_quantile(u, 0.5)
        return (m or after, -run.p[u, 0], run.codes[u])

    rest.sort(key=key)
    fig = out.figure("adoption_years")
    ax = fig.add_axes([0.2, 0.09, 0.66, 0.83])
    n = max(1, len(rest))
    for i, u in enumerate(rest):
        yv = n - 1 - i
        qs = {lv: run.year_quantile(u, lv) or after for lv in (0.05, 0.25, 0.5, 0.75, 0.95)}
        # a year is the cell [y - 0.5, y + 0.5]: an interval covers its end years
        ax.plot([qs[0.05] - 0.45, qs[0.95] + 0.45], [yv, yv], color="#6baed6", lw=1.6,
                solid_capstyle="butt")
        ax.plot([qs[0.25] - 0.35, qs[0.75] + 0.35], [yv, yv], color="#08519c", lw=5,
                solid_capstyle="butt")
        ax.plot([qs[0.5]], [yv], "o", color="white", mec="#08306b", ms=6, mew=1.6)
        ax.text(1.01, yv, "%.2f" % run.p[u, -1], va="center", fontsize=8,
                transform=ax.get_yaxis_transform())
    ax.axvspan(after - 0.5, after + 0.5, color="#eeeeee", zorder=0)
    if rest:
        ax.set_yticks(range(n))
        ax.set_yticklabels([labs[u] for u in reversed(rest)], fontsize=8.5)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "every unit had adopted by %d" % run.base, transform=ax.transAxes,
                ha="center", va="center", fontsize=12, color="#444444")
    ticks = list(range(run.first, after + 1, 1 if after - run.first <= 14 else 2))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) if t <= run.last else ">%d" % run.last for t in ticks],
                       fontsize=8, rotation=45)
    ax.set_xlim(run.first - 0.6, after + 0.6)
    ax.set_ylim(-0.8, n - 0.2)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    ax.text(1.01, n - 0.1, "P(by %d)" % run.last, fontsize=8, va="bottom",
            transform=ax.get_yaxis_transform())
    ax.set_xlabel("adoption year (circle: median; thick: 25-75%; thin: 5-95%)")
    done = run.U - len(rest)
    ax.set_title("Adoption year of the %d units not adopted by %d, by median year\n"
                 "(%d adopted by %d are not shown; %d runs)"
                 % (len(rest), run.base, done, run.base, run.n_runs), fontsize=11)
    out.save(fig, "adoption_years")


def plot_all(run, out, year, pinyin):
    plot_s_curve(run, out)
    plot_tile_map_p(run, out, year, pinyin)
    plot_tile_map_median(run, out, pinyin)
    plot_adoption_years(run, out, pinyin)
