#!/usr/bin/python3
"""Write a small synthetic sweep file in the layout that `pdsim merge`
writes (docs/report.md, "Sweep files"), for the report tests and for the
example pictures of docs/report.md. Its numbers are invented: they show
what the plots look like, not any result.

    example_sweep.py OUT.h5 [--no-sobol]
"""
import sys

import h5py
import numpy as np


def write_sweep(path, sobol=True, complete=1, version=1):
    """A small synthetic file in the agreed sweep layout."""
    rng = np.random.default_rng(3)
    names = ["model.central_documents", "subunit_model.parent_adopted",
             "scenario.central_documents[0].weight"]
    P, n, U = len(names), 40, 31
    years = np.arange(2024, 2031, dtype=np.int16)
    lo, hi = np.array([0.3, 0.5, 0.0]), np.array([0.9, 2.0, 3.0])
    pts = lo + rng.random((n, P)) * (hi - lo)
    nat = np.clip(14 + 16 * pts[:, :1] * np.linspace(0.3, 1, len(years)) + pts[:, 2:3], 0, U)
    levels = np.array([0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95])
    s = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        for k, v in dict(format_version=np.int64(version), kind="sweep", sweep_hash="ab12",
                         design="sobol" if sobol else "lhs", n_points=np.uint64(n),
                         runs_per_point=np.uint64(50), seed=np.uint64(1),
                         base_year=np.int64(2023), first_year=np.int64(2024),
                         last_year=np.int64(2030), config="design: sobol\n",
                         pdsim_version="test").items():
            f.attrs[k] = v

        def ds(name, data, **kw):
            d = f.create_dataset(name, data=data, **kw)
            d.attrs["description"] = name

        ds("design/names", names, dtype=s)
        ds("design/points", pts)
        ds("design/lower", lo)
        ds("design/upper", hi)
        ds("years", years)
        ds("provinces/code", ["U%02d" % i for i in range(U)], dtype=s)
        ds("provinces/name", ["unit %d" % i for i in range(U)], dtype=s)
        ds("points/national_adopted_mean", nat)
        ds("points/quantile_levels", levels)
        ds("points/national_adopted_quantiles",
           np.repeat(nat[:, None, :], len(levels), axis=1))
        ds("points/p_all_adopted", np.clip(pts[:, 0] - 0.2, 0, 1))
        f["points/p_all_adopted"].attrs["year"] = np.int64(2030)
        ds("points/median_year", 2025 + rng.integers(0, 6, (n, U)).astype(float))
        if sobol:
            outs = ["national_adopted_2030", "p_all_adopted"]
            est = rng.random((2, P, 1)) * 0.5
            tri = np.concatenate([est, est - 0.08, est + 0.08], axis=2)
            ds("sobol/outputs", outs, dtype=s)
            ds("sobol/first_order", tri)
            ds("sobol/total", tri + 0.1)
        f.attrs["complete"] = np.uint8(complete)


if __name__ == "__main__":
    write_sweep(sys.argv[1], sobol="--no-sobol" not in sys.argv[2:])
