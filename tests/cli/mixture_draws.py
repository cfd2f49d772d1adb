"""Every run of a forecast with several models and uncertainty: posterior
used a row of ITS model's posterior draws: /runs/coefficients (columns by
term name, NaN where the run's model lacks the term) equals row
/runs/posterior_draw of the draws file of model /runs/model.

    mixture_draws.py RUN.h5 MODELS_DIR
"""
import os
import sys

import h5py
import numpy as np

run, models_dir = sys.argv[1:3]
with h5py.File(run, "r") as f:
    model = f["runs/model"][()]
    names = [x.decode() for x in f["runs/model"].attrs["names"]]
    idx = f["runs/posterior_draw"][()]
    files = [x.decode() for x in f["runs/posterior_draw"].attrs["draws_files"]]
    coef = f["runs/coefficients"][()]
    cols = [x.decode() for x in f["runs/coefficients"].attrs["names"]]
bad = 0
for k, path in enumerate(files):
    with open(path, encoding="utf-8") as fh:
        head = fh.readline().strip().split(",")
    d = np.genfromtxt(path, delimiter=",", skip_header=1)
    sel = model == k
    want = np.full((sel.sum(), len(cols)), np.nan)
    for j, c in enumerate(cols):
        name = "(Intercept)" if c == "(intercept)" else c
        if name in head:
            want[:, j] = d[idx[sel], head.index(name)]
    ok = np.array_equal(np.isnan(want), np.isnan(coef[sel])) and \
        np.allclose(np.nan_to_num(want), np.nan_to_num(coef[sel]), rtol=0, atol=0)
    print("model %d (%s): %d runs, %d distinct draws; coefficients = its draws rows: %s"
          % (k, names[k], sel.sum(), len(set(idx[sel].tolist())), "yes" if ok else "NO"))
    bad |= not ok or sel.sum() == 0
sys.exit(1 if bad else 0)
