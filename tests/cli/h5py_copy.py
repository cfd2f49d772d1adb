"""A faithful copy of an HDF5 file written by h5py: every group and dataset
copied, and the root attributes set again from their values, which h5py
stores as null-padded fixed-length strings.

    h5py_copy.py IN OUT
"""
import sys

import h5py

with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "w") as b:
    for k in a:
        a.copy(k, b)
    for k, v in a.attrs.items():
        b.attrs[k] = v
