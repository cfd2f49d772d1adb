"""Edit a sweep part file the way a damaged or forged one could look.

    forge_part.py FILE ATTRIBUTE VALUE    set a root attribute (same type)
    forge_part.py FILE --widen DATASET N  replace a 2-D dataset by one with
                                          N more columns
    forge_part.py FILE --partial          mark it unfinished (complete = 0,
                                          points_done = 0)
"""
import sys

import h5py
import numpy as np

path = sys.argv[1]
with h5py.File(path, "r+") as f:
    if sys.argv[2] == "--widen":
        name, extra = sys.argv[3], int(sys.argv[4])
        old = f[name][...]
        new = np.full((old.shape[0], old.shape[1] + extra), np.nan)
        del f[name]
        f.create_dataset(name, data=new)
    elif sys.argv[2] == "--partial":
        f.attrs.modify("complete", np.uint8(0))
        f.attrs.modify("points_done", np.uint64(0))
    else:
        name, value = sys.argv[2], int(sys.argv[3])
        dtype = f.attrs[name].dtype
        f.attrs.modify(name, np.array(value).astype(dtype))
