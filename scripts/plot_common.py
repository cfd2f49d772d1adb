"""Shared by the pdsim plotting scripts (plot_report.py and the plot_*.py
modules it uses): fonts, saving figures, reading HDF5 strings, input errors.

Needs Debian's python3-h5py, python3-numpy and python3-matplotlib; a CJK font
(fonts-wqy-microhei or fonts-noto-cjk) for Chinese labels.
"""
import csv
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

# Figure sizes in inches; a PNG is (width x dpi) by (height x dpi) pixels.
SIZES = {
    "s_curve": (10, 6),
    "tile_map_p": (8, 8),
    "tile_map_median": (8, 8),
    "adoption_years": (9, 8),
    "compare_national": (9, 5),
    "compare_provinces": (9, 8),
    "compare_map": (8, 8),
    "compare_fans": (10, 6),
    "compare_year_shift": (9, 8),
    "sweep_response": (12, 7),
    "sweep_sobol": (10, 6),
}

CJK_FONTS = [
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
]


class InputError(Exception):
    """A problem with an input file: reported as one line, exit status 2."""


def setup_fonts():
    """Use a CJK font for labels when one is installed; its name, or None."""
    have = {f.name for f in font_manager.fontManager.ttflist}
    plt.rcParams["axes.unicode_minus"] = False
    # SVG text as outlines: the file looks the same wherever it is opened,
    # whatever fonts are installed there (the strings stay in comments)
    plt.rcParams["svg.fonttype"] = "path"
    # PDF: embed the fonts as TrueType (Type 42), which journals accept and
    # which keeps the CJK glyphs
    plt.rcParams["pdf.fonttype"] = 42
    for name in CJK_FONTS:
        if name in have:
            # matplotlib (3.6+) falls back glyph by glyph along this list
            plt.rcParams["font.family"] = ["DejaVu Sans", name]
            return name
    return None


def has_cjk(text):
    return any(ord(ch) >= 0x2E80 for ch in text)


def strings(ds):
    """A string dataset or attribute as a list of str."""
    out = []
    for s in ds[()] if hasattr(ds, "shape") else ds:
        out.append(s.decode("utf-8") if isinstance(s, bytes) else str(s))
    return out


def attr_str(obj, name, default=""):
    if name not in obj.attrs:
        return default
    v = obj.attrs[name]
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if hasattr(v, "shape") and v.shape == ():
        v = v[()]
        if isinstance(v, bytes):
            return v.decode("utf-8")
    return str(v)


def attr_num(f, path, name):
    if name not in f.attrs:
        raise InputError("%s: no root attribute %s" % (path, name))
    return f.attrs[name][()] if hasattr(f.attrs[name], "shape") else f.attrs[name]


def need(f, path, names):
    for n in names:
        if n not in f:
            raise InputError("%s: no %s (see docs/report.md for the expected layout)" % (path, n))


def check_complete(f, path, what, version=True):
    if int(f.attrs.get("complete", 0)) != 1:
        raise InputError("%s: incomplete %s (expected the root attribute complete = 1)"
                         % (path, what))
    if version:
        if "format_version" not in f.attrs:
            raise InputError("%s: no format_version attribute (expected format version 1)" % path)
        v = int(f.attrs["format_version"])
        if v != 1:
            raise InputError("%s: format version %d, expected 1" % (path, v))


def shape_is(f, path, name, shape):
    if tuple(f[name].shape) != tuple(shape):
        raise InputError("%s: %s has shape %s, expected %s"
                         % (path, name, tuple(f[name].shape), tuple(shape)))


def read_csv(path):
    """Rows of a UTF-8 CSV (a byte-order mark is skipped) as dicts."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def write_replace(path, write):
    """Write path as pdsim writes its outputs: write(fh) into a new temporary
    file beside it (created exclusively, so a link planted at a temporary
    name is never followed), check that the name is still that file, then
    rename it onto path. A failure removes the temporary file. The name,
    ".BASE.PID.XXXXXXXX.tmp", carries the process id, so that pdsim report
    can tell a file left by a killed script (its process gone) and remove it."""
    folder, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s.%d." % (base, os.getpid()), suffix=".tmp",
                               dir=folder or ".")
    st = os.fstat(fd)

    def ours():
        try:
            ls = os.lstat(tmp)
        except OSError:
            return False
        return (ls.st_dev, ls.st_ino) == (st.st_dev, st.st_ino)

    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        if not ours():
            raise OSError("%s: the temporary file was replaced while it was written" % tmp)
        os.replace(tmp, path)
    except BaseException:
        if ours():
            os.unlink(tmp)
        raise


class Output:
    """Where figures go, and what has been written (names, for the page)."""

    def __init__(self, folder, dpi=100, svg=False, pdf=False):
        self.folder = folder
        self.dpi = dpi
        self.svg = svg
        self.pdf = pdf
        self.made = []
        self.notes = []

    def figure(self, name, **kw):
        fig = plt.figure(figsize=SIZES[name], dpi=self.dpi, **kw)
        return fig

    def save(self, fig, name):
        write_replace(os.path.join(self.folder, name + ".png"),
                      lambda fh: fig.savefig(fh, dpi=self.dpi, format="png"))
        for ext, on in (("svg", self.svg), ("pdf", self.pdf)):
            if on:
                write_replace(os.path.join(self.folder, name + "." + ext),
                              lambda fh, ext=ext: fig.savefig(fh, format=ext))
        plt.close(fig)
        self.made.append(name)

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)
