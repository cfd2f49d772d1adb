"""Write a copy of a result file of pdsim run that claims more than it holds.

    forge_result.py IN OUT RUNS [UNITS [FIRST_YEAR LAST_YEAR]]

OUT has every attribute of IN, n_runs = RUNS, and (when given) UNITS unit
codes and the years FIRST_YEAR..LAST_YEAR, with a chunked
/runs/province_adoption_year of shape [RUNS x UNITS] of which only the
first chunk is written: a few kilobytes that claim up to terabytes.
"""
import sys

import h5py
import numpy as np

src, dst, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
    units = int(sys.argv[4]) if len(sys.argv) > 4 else a["provinces/code"].shape[0]
    for k, v in a.attrs.items():
        b.attrs[k] = v
    b.attrs.modify("n_runs", np.uint64(runs))
    if len(sys.argv) > 6:
        b.attrs.modify("first_year", np.int64(sys.argv[5]))
        b.attrs.modify("last_year", np.int64(sys.argv[6]))
        b.attrs.modify("base_year", np.int64(int(sys.argv[5]) - 1))
    codes = [("U%d" % i).encode() for i in range(units)]
    g = b.create_group("provinces")
    g.create_dataset("code", data=np.array(codes, dtype="S8"))
    g.create_dataset("name", data=np.array(codes, dtype="S8"))
    g.create_dataset("region", data=np.array(codes, dtype="S8"))
    r = b.create_group("runs")
    d = r.create_dataset("province_adoption_year", shape=(runs, units), dtype="i2",
                         chunks=(min(runs, 256), min(units, 64)))
    d[0:1, 0:1] = 0
    for k in a:
        if k not in ("provinces", "runs"):
            a.copy(k, b)
