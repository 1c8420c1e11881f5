"""Checks the baseline defenses' records in a pbe_dist results file with h5py alone.

usage: check_baselines.py RESULTS.h5
"""
import sys

import h5py
import numpy as np


def main():
    with h5py.File(sys.argv[1], "r") as f:
        rows = {r["defense"].decode(): r for r in f["matrix"][()]}
        assert set(rows) == {"none", "fp", "nad", "anp", "ibau", "nc", "mcr"}, sorted(rows)
        assert all(r["status"].decode() == "done" for r in rows.values()), rows
        d = f["cells/synthetic/small-cnn/badnets/seed0/defenses"]
        for name in ("fp", "nad", "anp", "ibau", "nc", "mcr"):
            g = d[name]
            assert g.attrs["status"] == "done", name
            # The row's DER follows from its ACC/ASR and the undefended row's (metrics.md).
            r, base = rows[name], rows["none"]
            der = (max(0.0, base["asr"] - r["asr"]) - max(0.0, base["acc"] - r["acc"]) + 1) / 2
            assert abs(r["der"] - der) < 1e-9, (name, r["der"], der)
            assert 0 < r["acc"] <= 1 and 0 <= r["asr"] <= 1, (name, r)
            assert g["metrics"].attrs["clean_extra_size"] == 60, name
        # ANP: one row per neuron of the 4 convolutions (8 + 8 + 16 + 16), masks in [0, 1], the
        # pruned ones exactly those below the 0.2 threshold; the sweep at 25/50/75% of 48.
        n = d["anp/neurons"]
        mask, pruned = n["mask"][()], n["pruned"][()]
        assert mask.shape == (48,) and (mask >= 0).all() and (mask <= 1).all(), mask
        assert ((mask < 0.2) == (pruned == 1)).all(), (mask, pruned)
        assert list(d["anp/steps/pruned"][()]) == [12, 24, 36], d["anp/steps/pruned"][()]
        assert d["anp/options"].attrs["threshold"] == "0.2"
        # NC: one row per class, flags only below-median classes with an index above 2.
        s = d["nc/steps"]
        norm, index, flagged = s["norm"][()], s["anomaly_index"][()], s["flagged"][()]
        assert list(s["class"][()]) == [0, 1, 2, 3]
        assert ((flagged == 1) == ((norm < np.median(norm)) & (index > 2))).all(), (norm, index, flagged)
        # I-BAU: one row per round; MCR: the sweep over t.
        assert list(d["ibau/steps/round"][()]) == [0, 1]
        assert (d["ibau/steps/perturbation_norm"][()] > 0).all()
        assert list(d["mcr/steps/t"][()]) == [0, 0.5, 1]
        assert len(d["mcr/curves/loss"][()]) == 2
        assert len(d["nad/curves/loss"][()]) == 2
    print("check_baselines: ok")


if __name__ == "__main__":
    main()
