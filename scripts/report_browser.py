#!/usr/bin/python3
"""Open a report folder of `pdsim report` in headless Chromium, as a reader
would: check that every image of index.html loads (complete, naturalWidth
> 0), and optionally save screenshots of the page's sections.

    report_browser.py REPORT_DIR [--screenshots DIR] [--scale F]

Standard library only. Prints one line per image and per screenshot.
Exit status: 0 every image loads; 1 an image does not load, or Chromium
failed; 3 no Chromium found ($PDSIM_CHROMIUM, chromium, chromium-browser).
Nothing is fetched from the network: the page is a local file and Chromium
runs with name resolution mapped to nowhere and its background services off.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CHECK_JS = """<script>
window.addEventListener("load", function () {
  var out = [];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    out.push({src: im.getAttribute("src"), ok: im.complete && im.naturalWidth > 0,
              w: im.naturalWidth, h: im.naturalHeight});
  }
  var pre = document.createElement("pre");
  pre.id = "pdsim-image-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""

# A screenshot of a section: a copy of the page that starts at the
# section's element (its earlier siblings removed; scrolling to an anchor
# gives a blank headless screenshot)
SECTION_JS = """<script>
document.addEventListener("DOMContentLoaded", function () {
  var t = document.getElementById("%s");
  while (t && t.parentNode !== document.body) t = t.parentNode;
  while (t && t.previousSibling) document.body.removeChild(t.previousSibling);
});
</script>"""

# sections of the page worth a screenshot (anchors written by plot_report.py)
SECTIONS = [("", "page"), ("#units", "page_units"), ("#comparison", "page_comparison"),
            ("#sweep", "page_sweep")]


def chromium():
    for c in (os.environ.get("PDSIM_CHROMIUM"), "chromium", "chromium-browser"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


class Imgs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.src, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.src.append(a.get("src"))
        if "id" in a:
            self.ids.add(a["id"])


def browse(exe, profile, url, extra, timeout=120):
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + profile,
           "--virtual-time-budget=10000"] + extra + [url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def main(argv):
    ap = argparse.ArgumentParser(prog="report_browser.py", description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--screenshots")
    ap.add_argument("--scale", type=float, default=0.6)
    a = ap.parse_args(argv)
    exe = chromium()
    if not exe:
        print("report_browser: no Chromium (set PDSIM_CHROMIUM, or install the Debian "
              "package chromium)", file=sys.stderr)
        return 3
    index = os.path.join(os.path.abspath(a.report), "index.html")
    with open(index, encoding="utf-8") as fh:
        page = fh.read()
    p = Imgs()
    p.feed(page)
    tmp = tempfile.mkdtemp(prefix="pdsim-browser-")
    check = os.path.join(os.path.dirname(index), ".pdsim-image-check.html")
    try:
        with open(check, "w", encoding="utf-8") as fh:
            fh.write(page.replace("</body>", CHECK_JS + "</body>"))
        r = browse(exe, os.path.join(tmp, "profile"), "file://" + check, ["--dump-dom"])
        m = re.search(r'<pre id="pdsim-image-check">(.*?)</pre>', r.stdout, re.S)
        if not m:
            print("report_browser: Chromium gave no result (exit %d): %s"
                  % (r.returncode, r.stderr.strip()[-500:]), file=sys.stderr)
            return 1
        res = json.loads(html.unescape(m.group(1)))
        bad = [x for x in res if not x["ok"]]
        for x in res:
            print("%s %s %dx%d" % ("ok" if x["ok"] else "NOT LOADED", x["src"], x["w"], x["h"]))
        if len(res) != len(p.src):
            print("report_browser: the browser saw %d images, index.html has %d"
                  % (len(res), len(p.src)), file=sys.stderr)
            return 1
        if a.screenshots:
            os.makedirs(a.screenshots, exist_ok=True)
            for anchor, name in SECTIONS:
                if anchor and anchor[1:] not in p.ids:
                    continue
                out = os.path.join(os.path.abspath(a.screenshots), name + ".png")
                with open(check, "w", encoding="utf-8") as fh:
                    fh.write(page.replace("</head>", SECTION_JS % anchor[1:] + "</head>")
                             if anchor else page)
                r = browse(exe, os.path.join(tmp, "profile"), "file://" + check,
                           ["--force-device-scale-factor=%g" % a.scale,
                            "--window-size=1150,1300", "--screenshot=" + out])
                if not os.path.isfile(out):
                    print("report_browser: no screenshot %s (exit %d): %s"
                          % (out, r.returncode, r.stderr.strip()[-300:]), file=sys.stderr)
                    return 1
                print("screenshot %s" % out)
        return 1 if bad else 0
    finally:
        if os.path.exists(check):
            os.remove(check)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
