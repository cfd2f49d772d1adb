"""Plots of a sweep result file (kind = "sweep", as `pdsim sweep` and
`pdsim merge` write it; layout in docs/sweep.md): the response of the outputs
to each swept parameter, and the Sobol indices with their bootstrap intervals
when the design is a Sobol design."""
import re

import h5py
import numpy as np

from plot_common import InputError, attr_num, attr_str, check_complete, need, shape_is, strings

MAX_PARAMS = 8


class SweepData:
    def __init__(self, path):
        self.path = path
        with h5py.File(path, "r") as f:
            if attr_str(f, "kind") != "sweep":
                raise InputError("%s: not a sweep file (expected the root attribute kind = sweep)"
                                 % path)
            check_complete(f, path, "sweep file")
            need(f, path, ["design/names", "design/points", "years", "provinces/code",
                           "points/national_adopted_mean", "points/p_all_adopted"])
            self.design = attr_str(f, "design")
            self.n_points = int(attr_num(f, path, "n_points"))
            self.runs_per_point = int(attr_num(f, path, "runs_per_point"))
            self.last = int(attr_num(f, path, "last_year"))
            self.base_samples = int(f.attrs.get("sobol_base_samples", 0))
            self.names = strings(f["design/names"])
            self.codes = strings(f["provinces/code"])
            self.unit_names = (strings(f["provinces/name"]) if "provinces/name" in f
                               else list(self.codes))
            self.years = f["years"][()].astype(int)
            P, n, Y = len(self.names), self.n_points, len(self.years)
            shape_is(f, path, "design/points", (n, P))
            shape_is(f, path, "points/national_adopted_mean", (n, Y))
            shape_is(f, path, "points/p_all_adopted", (n,))
            self.points = f["design/points"][()]
            self.lower = f["design/lower"][()] if "design/lower" in f else self.points.min(0)
            self.upper = f["design/upper"][()] if "design/upper" in f else self.points.max(0)
            self.national = f["points/national_adopted_mean"][()]
            self.p_all = f["points/p_all_adopted"][()]
            self.sobol = None
            self.boot_used, self.bootstrap = None, 0
            if "sobol/outputs" in f:
                need(f, path, ["sobol/first_order", "sobol/total"])
                outs = strings(f["sobol/outputs"])
                shape_is(f, path, "sobol/first_order", (len(outs), P, 3))
                shape_is(f, path, "sobol/total", (len(outs), P, 3))
                self.sobol = (outs, f["sobol/first_order"][()], f["sobol/total"][()])
                # resamples behind each interval (absent in older files)
                if "sobol/bootstrap_used" in f:
                    shape_is(f, path, "sobol/bootstrap_used", (len(outs), P, 2))
                self.boot_used = (f["sobol/bootstrap_used"][()]
                                  if "sobol/bootstrap_used" in f else None)
                self.bootstrap = int(f.attrs.get("bootstrap", 0))
        if n < 1 or P < 1:
            raise InputError("%s: no design points or no parameters" % path)


def _response(ax, x, y, color):
    ax.scatter(x, y, s=9, color=color, alpha=0.45, lw=0)
    ux = np.unique(x)
    if len(ux) <= 25:  # grid-like: the mean at each value
        mx, my = ux, np.array([y[x == v].mean() for v in ux])
    else:  # scattered designs: the mean in ten equal-count bins
        order = np.argsort(x)
        bins = np.array_split(order, 10)
        mx = np.array([x[b].mean() for b in bins if len(b)])
        my = np.array([y[b].mean() for b in bins if len(b)])
    ax.plot(mx, my, color="black", lw=1.6)


def plot_response(sw, out, year):
    k = int(np.argmin(np.abs(sw.years - year)))
    yr = int(sw.years[k])
    P = min(len(sw.names), MAX_PARAMS)
    if len(sw.names) > MAX_PARAMS:
        out.note("Sweep response: only the first %d of %d parameters are drawn."
                 % (MAX_PARAMS, len(sw.names)))
    fig = out.figure("sweep_response")
    axes = fig.subplots(2, P, squeeze=False, sharey="row")
    outputs = [("mean units adopted by %d" % yr, sw.national[:, k], "#3b75af"),
               ("P(all adopted by %d)" % sw.last, sw.p_all, "#e6550d")]
    for j in range(P):
        x = sw.points[:, j]
        for i, (label, y, color) in enumerate(outputs):
            ax = axes[i][j]
            _response(ax, x, y, color)
            ax.grid(color="#eeeeee", lw=0.5)
            ax.tick_params(labelsize=7)
            if j == 0:
                ax.set_ylabel(label, fontsize=9)
            if i == 1:
                ax.set_xlabel(_wrap(sw.names[j]), fontsize=7.5)
    fig.suptitle("Response of the outputs to each swept parameter (%s design, %d points x %d "
                 "runs; line: mean)" % (sw.design or "?", sw.n_points, sw.runs_per_point),
                 fontsize=11)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.9, wspace=0.12, hspace=0.25)
    out.save(fig, "sweep_response")


def output_title(sw, name):
    """A reader's name for a Sobol output (docs/sweep.md): the quantity in
    words, with the unit's name for median_year_CODE; unknown names as they
    are."""
    if name == "p_all_adopted":
        return "P(every unit adopted\nby %d)" % sw.last
    m = re.fullmatch(r"national_adopted_(\d+)", name)
    if m:
        return "mean units adopted\nby the end of %s" % m.group(1)
    m = re.fullmatch(r"median_year_(.+)", name)
    if m and m.group(1) in sw.codes:
        unit = sw.unit_names[sw.codes.index(m.group(1))]
        return "median adoption year:\n%s (%s)" % (unit, m.group(1)) if unit != m.group(1) \
            else "median adoption year:\n%s" % unit
    return name


def _wrap(name, width=22):
    parts, line = [], ""
    for piece in name.replace(".", ".\u200b").split("\u200b"):
        if len(line) + len(piece) > width and line:
            parts.append(line)
            line = ""
        line += piece
    parts.append(line)
    return "\n".join(parts)


def plot_sobol(sw, out):
    outs, first, total = sw.sobol
    O = min(len(outs), 4)
    if len(outs) > 4:
        out.note("Sobol indices: only the first 4 of %d outputs are drawn." % len(outs))
    fig = out.figure("sweep_sobol")
    axes = fig.subplots(1, O, squeeze=False, sharey=True, sharex=True)[0]
    # Indices are shares of a variance, so 0..1 is the natural scale; noisy
    # estimates and bootstrap ends beyond it widen it, but only so far, so
    # that one wild interval of a small design does not squash the bars.
    both = np.concatenate([first[:O].ravel(), total[:O].ravel()])
    both = both[np.isfinite(both)]
    lo = max(-0.5, min(-0.05, float(both.min()) - 0.03)) if both.size else -0.05
    hi = min(1.5, max(1.05, float(both.max()) + 0.03)) if both.size else 1.05
    axes[0].set_xlim(lo, hi)
    P = len(sw.names)
    y = np.arange(P)
    h = 0.38
    for i in range(O):
        ax = axes[i]
        flat = not np.isfinite(first[i, :, 0]).any() and not np.isfinite(total[i, :, 0]).any()
        for off, data, color, lab in ((-h / 2, first[i], "#3b75af", "first order"),
                                      (h / 2, total[i], "#e6550d", "total")):
            ok = np.isfinite(data[:, 0])
            est, elo, ehi = data[ok, 0], data[ok, 1], data[ok, 2]
            err = np.vstack([np.clip(est - elo, 0, None), np.clip(ehi - est, 0, None)])
            ax.barh(y[ok] + off, est, height=h, color=color, alpha=0.85, label=lab)
            ax.errorbar(est, y[ok] + off, xerr=np.nan_to_num(err), fmt="none", ecolor="black",
                        elinewidth=0.9, capsize=2.5)
        if flat:  # an output equal at every point has no variance to share out
            ax.text(0.5, 0.5, "does not vary\nover the design", transform=ax.transAxes,
                    ha="center", va="center", fontsize=9, color="#666666")
            out.note("Sobol indices: %s does not vary over the design (indices NaN)."
                     % outs[i])
        ax.axvline(0, color="black", lw=0.7)
        ax.set_title(output_title(sw, outs[i]), fontsize=9)
        ax.grid(axis="x", color="#eeeeee", lw=0.5)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("index (95% bootstrap interval)", fontsize=8)
        if i == 0:
            ax.set_yticks(y)
            ax.set_yticklabels([_wrap(n, 28) for n in sw.names], fontsize=7.5)
            ax.legend(fontsize=8, frameon=False, loc="lower right")
    axes[0].invert_yaxis()
    if sw.boot_used is not None:
        lo_used = int(sw.boot_used[:O].min()) if sw.boot_used[:O].size else 0
        if lo_used < sw.bootstrap:
            out.note("Sobol indices: some intervals rest on fewer resamples than the %d drawn "
                     "(at least %d; resamples that gave NaN are left out)."
                     % (sw.bootstrap, lo_used))
        else:
            out.note("Sobol indices: every interval rests on all %d bootstrap resamples."
                     % sw.bootstrap)
    base = " = %d base samples x %d" % (sw.base_samples, P + 2) if sw.base_samples else ""
    fig.suptitle("Sobol sensitivity indices (%d points%s, %d runs each)"
                 % (sw.n_points, base, sw.runs_per_point), fontsize=11)
    fig.subplots_adjust(left=0.25, right=0.98, bottom=0.12, top=0.84, wspace=0.08)
    out.save(fig, "sweep_sobol")


def plot_all(sw, out, year):
    plot_response(sw, out, year)
    if sw.sobol is not None:
        plot_sobol(sw, out)
    else:
        out.note("Sweep: no Sobol indices in %s (design %s); only the responses are drawn."
                 % (sw.path, sw.design or "?"))
