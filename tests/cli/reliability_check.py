"""Independent recomputation of the reliability note of a result file.

  reliability_check.py RUN.h5 MODEL.yaml TABLE.csv WEIGHT [MODEL.yaml TABLE.csv WEIGHT ...]

Each TABLE.csv is the unit-year table `pdsim fit --export-table` wrote for
that model's terms; the model's coefficients are read from its YAML (the
shipped files' flow style). The expected adoptions of a row are the
weighted mean of the models' fitted logit hazards; periods are 2014-2017,
2018-2020, 2021-2023 and the whole window. Compares with /reliability of
RUN.h5 to 1e-9.
"""
import csv
import math
import re
import sys

import h5py
import numpy as np


def coefficients(path):
    text = open(path, encoding="utf-8").read()
    b0 = float(re.search(r"intercept:\s*\{coef:\s*([-0-9.eE+]+)", text).group(1))
    terms = re.findall(r"\{name:\s*([A-Za-z0-9_]+),.*?coef:\s*([-0-9.eE+]+)", text)
    return b0, {n: float(c) for n, c in terms}


def hazards(model, table):
    b0, b = coefficients(model)
    rows = list(csv.DictReader(open(table, encoding="utf-8")))
    key = [(r["unit"], int(r["year"])) for r in rows]
    y = np.array([float(r["adopted"]) for r in rows])
    eta = np.full(len(rows), b0)
    for name, coef in b.items():
        eta += coef * np.array([float(r[name]) for r in rows])
    return key, y, 1.0 / (1.0 + np.exp(-eta))


def main():
    run = sys.argv[1]
    args = sys.argv[2:]
    p = None
    for i in range(0, len(args), 3):
        key, y, h = hazards(args[i], args[i + 1])
        w = float(args[i + 2])
        if p is None:
            key0, y0, p = key, y, w * h
        else:
            assert key == key0, "tables of the models hold other unit-years"
            p = p + w * h
    years = np.array([k[1] for k in key0])
    periods = [(2014, 2017), (2018, 2020), (2021, 2023), (2014, 2023)]
    f = h5py.File(run, "r")
    got_years = f["/reliability/insample_years"][...]
    got = f["/reliability/insample"][...]
    assert got.shape == (4, 5), got.shape
    bad = 0
    for i, (a, b) in enumerate(periods):
        m = (years >= a) & (years <= b)
        e = p[m].sum()
        sd = math.sqrt((p[m] * (1 - p[m])).sum())
        o = y0[m].sum()
        want = [m.sum(), o, e, sd, (o - e) / sd]
        ok = list(got_years[i]) == [a, b] and np.allclose(got[i], want, rtol=1e-9, atol=1e-9)
        print(f"{a}-{b}: file {got_years[i]} {np.round(got[i], 6)}; independent {np.round(want, 6)}"
              f" {'ok' if ok else 'DIFFERENT'}")
        bad += not ok
    prov = f["/reliability"].attrs["data_provenance"]
    prov = prov.decode() if isinstance(prov, bytes) else prov
    print(prov)
    sys.exit(1 if bad else 0)


main()
