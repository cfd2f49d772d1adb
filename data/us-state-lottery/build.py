#!/usr/bin/env python3
"""Build the us-state-lottery dataset.

Deterministic: reads only the raw source folder us-state-policies under
$PDSIM_RAW_DATA, else ../shared/data (relative to the
repository root), and rewrites the CSV files
next to this script. Run from anywhere:  python3 data/us-state-lottery/build.py
Every rule applied here is described in README.md.
With --check, writes nothing and exits 1 when the files here differ from what
the sources give.
"""
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# the raw source folders: $PDSIM_RAW_DATA, else ../shared/data beside the repository
SRC = os.path.normpath(os.path.join(os.environ.get("PDSIM_RAW_DATA") or os.path.join(ROOT, "..", "shared", "data"), "us-state-policies"))

POLICY = "lott"
LAST_YEAR = 1993  # end of observation: the series' last recorded adoption (README)
SPID = "SPID v1.0 (Boehmke et al., doi:10.7910/DVN/CVYSR7), spid_policies_adoptions.csv, policy lott"
NBR = "neighbors-states.csv (ubikuity/List-of-neighboring-states-for-each-US-state 8c5b2a75)"
# Dropped pairs: AK-WA and CA-HI are listed in the source but the states share
# no land border (approximate neighbours); DC is not a state.
DROP_PAIRS = {("AK", "WA"), ("CA", "HI")}
DROP_UNITS = {"DC"}


def read(name):
    with open(os.path.join(SRC, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write(name, header, rows, check):
    """Write (or with check, compare) one CSV; returns True when unchanged."""
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path = os.path.join(HERE, name)
    if check:
        try:
            with open(path, encoding="utf-8", newline="") as f:
                return f.read() == buf.getvalue()
        except OSError:
            return False
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    return True


def main():
    check = "--check" in sys.argv[1:]
    states = [r for r in read("usa-states.csv") if r["StateCode"] not in DROP_UNITS]
    if len(states) != 50:
        sys.exit("build.py: expected 50 states, got %d" % len(states))
    by_name = {r["StateName"]: r["StateCode"] for r in states}

    years = {}
    for r in read("spid_policies_adoptions.csv"):
        if r["policy"] != POLICY:
            continue
        code = by_name.get(r["statenam"])
        if code is None:
            sys.exit("build.py: unknown state %r in SPID" % r["statenam"])
        if code in years:
            sys.exit("build.py: two adoption years for %s" % code)
        years[code] = int(r["adopt_year"])
    # the shipped extract of the same series must agree with SPID
    extract = {by_name[r["statenam"]]: int(r["adopt_year"]) for r in read("extract_lott.csv")}
    if extract != years:
        sys.exit("build.py: extract_lott.csv and SPID disagree")
    if max(years.values()) > LAST_YEAR:
        sys.exit("build.py: an adoption after %d; update LAST_YEAR and README" % LAST_YEAR)

    units = []
    for r in sorted(states, key=lambda r: r["StateCode"]):
        code = r["StateCode"]
        if code in years:
            units.append([code, r["StateName"], "us", years[code], "sourced", SPID])
        else:
            units.append([code, r["StateName"], "us", "", "assumed",
                          SPID + ": no adoption recorded; read as not adopted by %d" % LAST_YEAR])

    pairs = set()
    for r in read("neighbors-states.csv"):
        a, b = r["StateCode"], r["NeighborStateCode"]
        if a in DROP_UNITS or b in DROP_UNITS or (a, b) in DROP_PAIRS or (b, a) in DROP_PAIRS:
            continue
        pairs.add(tuple(sorted((a, b))))
    same = write("units.csv", ["code", "name", "region", "adoption_year", "provenance", "source"],
                 units, check)
    same &= write("contiguity.csv", ["unit_a", "unit_b", "type", "provenance", "source"],
                  [[a, b, "land", "sourced", NBR] for a, b in sorted(pairs)], check)
    if check and not same:
        sys.exit("build.py --check: the CSV files differ from what the sources give")
    print("units.csv: %d states, %d adopters by %d; contiguity.csv: %d pairs"
          % (len(states), len(years), LAST_YEAR, len(pairs)))


if __name__ == "__main__":
    main()
