"""Checks of the report page in a real browser (see browser_test.sh).

    browser_test.py PDSIM_BINARY REPO_ROOT SHOT_DIR

A report of a small run and a comparison is opened in headless Chromium by
scripts/report_browser.py: every image must load, and the screenshots of
the page's sections must be real pictures (right size, not blank). The same
check on a copy with one image missing and one damaged must fail, naming
both: the check can see a broken page.
"""
import os
import shutil
import subprocess
import sys
import tempfile

PDSIM, ROOT, SHOTS = (os.path.abspath(x) for x in sys.argv[1:4])
SCRIPT = os.path.join(ROOT, "scripts", "report_browser.py")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def browser(report, shots=None):
    args = [sys.executable, "-I", SCRIPT, report] + (["--screenshots", shots] if shots else [])
    return run(*args)


def not_blank(path, size):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    grey = img[..., :3].mean(axis=2)
    return (w, h) == size and grey.var() > 1e-3 and (grey < 0.9).mean() > 0.02, \
        "%dx%d, variance %.3g" % (w, h, grey.var())


def main():
    tmp = tempfile.mkdtemp(prefix="pdsim-browser-test-")
    try:
        files = {}
        for name, cfg in (("base", "baseline.yaml"), ("scen", "scenario-document-2026.yaml")):
            files[name] = os.path.join(tmp, name + ".h5")
            r = run(PDSIM, "run", os.path.join(ROOT, "configs", cfg), "-n", 300, "-q", "-o",
                    files[name], "--replace")
            if r.returncode != 0:
                raise SystemExit("cannot make %s: %s" % (name, r.stderr))
        diff = os.path.join(tmp, "diff.h5")
        r = run(PDSIM, "compare", files["base"], files["scen"], "-o", diff, "-q")
        if r.returncode != 0:
            raise SystemExit("compare failed: " + r.stderr)
        rep = os.path.join(tmp, "report")
        r = run(PDSIM, "report", files["base"], diff, "-o", rep, "-q")
        check("report exits 0", r.returncode == 0, r.stderr)
        pngs = sorted(f for f in os.listdir(rep) if f.endswith(".png"))
        if os.path.isdir(SHOTS):
            shutil.rmtree(SHOTS)
        r = browser(rep, SHOTS)
        loaded = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("ok ")]
        check("every image of the page loads in Chromium (%d)" % len(pngs),
              r.returncode == 0 and sorted(loaded) == pngs, r.stdout + r.stderr[-500:])
        for name in ("page", "page_units", "page_comparison"):
            path = os.path.join(SHOTS, name + ".png")
            ok, why = not_blank(path, (690, 780)) if os.path.isfile(path) else (False, "missing")
            check("screenshot %s.png: 690x780, not blank" % name, ok, why)
        check("no check page left in the report folder",
              not any(f.startswith(".pdsim") for f in os.listdir(rep)))
        # the check must see a broken page
        broken = os.path.join(tmp, "broken")
        shutil.copytree(rep, broken)
        os.remove(os.path.join(broken, "s_curve.png"))
        with open(os.path.join(broken, "tile_map_p.png"), "wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\nnot a picture")
        r = browser(broken)
        bad = sorted(ln.split()[2] for ln in r.stdout.splitlines() if ln.startswith("NOT LOADED"))
        check("a missing and a damaged image are caught (exit 1, both named)",
              r.returncode == 1 and bad == ["s_curve.png", "tile_map_p.png"], r.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
