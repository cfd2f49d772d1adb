"""Every YAML block of the documentation is checked by the program.

Each fenced ```yaml block in README.md and docs/*.md must be preceded, on the
line just before the fence, by a marker saying what it is:

    <!-- snippet: config -->       a whole run config (paths as from configs/)
    <!-- snippet: config-part -->  keys added to configs/baseline.yaml
    <!-- snippet: model -->        a model file, used as a config's model
    <!-- snippet: manifest -->     a dataset.yaml, given the China dataset's files
    <!-- snippet: sweep -->        a sweep file (beside configs/baseline.yaml and paper-model4.yaml)
    <!-- snippet: calibrate -->    a calibration file (beside configs/baseline.yaml and paper-model4.yaml)
    <!-- snippet: fragment -->     not checked (say why after the word)

Everything but a fragment must pass `pdsim validate` (sweeps: `pdsim sweep
--list`; calibrations: `pdsim calibrate --check`); a marker may add expect="TEXT", text the program's output must
contain (for example the channels a scenario switches off). A block without
a marker, or with an unknown one, fails the test.

    doc_snippets.py PDSIM_BINARY REPO_ROOT
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

PDSIM, ROOT = sys.argv[1], os.path.abspath(sys.argv[2])
MARK = re.compile(r'^<!-- snippet: ([a-z-]+)\b(?:.*?expect="([^"]*)")?.*-->\s*$')
KINDS = ("config", "config-part", "model", "manifest", "sweep", "calibrate", "fragment")


def blocks(path):
    """(line number, marker kind or None, expected text or None, body) of
    every ```yaml block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if fence.startswith("```"):
            lang = fence[3:].strip()
            start = i
            i += 1
            body = []
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            if lang in ("yaml", "yml"):
                m = MARK.match(lines[start - 1]) if start > 0 else None
                yield (start + 1, m.group(1) if m else None, m.group(2) if m else None,
                       "\n".join(body) + "\n")
        i += 1


def run(*args):
    p = subprocess.run([PDSIM, *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def check(tmp, kind, text):
    """(ok, message) for one block."""
    cfgdir = os.path.join(tmp, "configs")
    base = open(os.path.join(ROOT, "configs", "baseline.yaml"), encoding="utf-8").read()
    base = re.sub(r"(?m)^output:.*\n", "", base)
    if kind == "config":
        path = os.path.join(cfgdir, "snippet.yaml")
        open(path, "w", encoding="utf-8").write(text)
        return run("validate", path)
    if kind == "config-part":
        path = os.path.join(cfgdir, "snippet.yaml")
        open(path, "w", encoding="utf-8").write(base + text)
        return run("validate", path)
    if kind == "model":
        open(os.path.join(cfgdir, "snippet-model.yaml"), "w", encoding="utf-8").write(text)
        path = os.path.join(cfgdir, "snippet.yaml")
        cfg = re.sub(r"(?m)^model:.*$", "model: snippet-model.yaml", base)
        open(path, "w", encoding="utf-8").write(cfg)
        return run("validate", path)
    if kind == "manifest":
        ds = os.path.join(tmp, "data", "snippet-dataset")
        shutil.rmtree(ds, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "data", "china-group-schooling"), ds)
        open(os.path.join(ds, "dataset.yaml"), "w", encoding="utf-8").write(text)
        path = os.path.join(cfgdir, "snippet.yaml")
        cfg = re.sub(r"(?m)^dataset:.*$", "dataset: ../data/snippet-dataset", base)
        open(path, "w", encoding="utf-8").write(cfg)
        return run("validate", path)
    if kind == "sweep":
        path = os.path.join(cfgdir, "snippet-sweep.yaml")
        open(path, "w", encoding="utf-8").write(text)
        return run("sweep", path, "--list", "-q")
    if kind == "calibrate":
        path = os.path.join(cfgdir, "snippet-calibrate.yaml")
        open(path, "w", encoding="utf-8").write(text)
        return run("calibrate", path, "--check")
    raise AssertionError(kind)


def main():
    docs = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    failed = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        # the repository's layout: configs/ beside data/ and models/
        os.mkdir(os.path.join(tmp, "configs"))
        os.mkdir(os.path.join(tmp, "data"))
        for d in os.listdir(os.path.join(ROOT, "data")):
            os.symlink(os.path.join(ROOT, "data", d), os.path.join(tmp, "data", d))
        os.symlink(os.path.join(ROOT, "models"), os.path.join(tmp, "models"))
        for c in ("baseline.yaml", "paper-model4.yaml"):
            shutil.copy(os.path.join(ROOT, "configs", c), os.path.join(tmp, "configs"))
        for doc in docs:
            rel = os.path.relpath(doc, ROOT)
            for line, kind, expect, text in blocks(doc):
                where = f"{rel}:{line}"
                if kind not in KINDS:
                    print(f"FAIL {where}: yaml block without a known '<!-- snippet: KIND -->' "
                          f"marker on the line before (kinds: {', '.join(KINDS)})")
                    failed += 1
                    continue
                if kind == "fragment":
                    print(f"skip {where}: fragment")
                    continue
                checked += 1
                status, out = check(tmp, kind, text)
                if status != 0:
                    print(f"FAIL {where} ({kind}): exit {status}")
                    print("    " + out.strip().replace("\n", "\n    "))
                    failed += 1
                elif expect is not None and expect not in out:
                    print(f"FAIL {where} ({kind}): the output lacks \"{expect}\"")
                    print("    " + out.strip().replace("\n", "\n    "))
                    failed += 1
                else:
                    print(f"ok {where} ({kind})")
    print(f"{checked} checked, {failed} failed")
    if checked == 0:
        print("FAIL no snippet checked")
        return 1
    return 1 if failed else 0


sys.exit(main())
