#!/usr/bin/python3
# Writes the splits that issue 6 defines with NumPy, once, so the examples need no NumPy:
#   boston_permutation.txt  numpy.random.default_rng(0).permutation(506): first 405 train, last 101 test
#   movielens_test.txt      numpy.random.default_rng(0).permutation(100004)[:20000]: test rows
# Run from anywhere: /usr/bin/python3 scripts/data/splits/make_splits.py
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def write(name, values):
    with open(os.path.join(here, name), "w") as f:
        f.write("\n".join(str(v) for v in values) + "\n")


write("boston_permutation.txt", np.random.default_rng(0).permutation(506))
write("movielens_test.txt", np.random.default_rng(0).permutation(100004)[:20000])
