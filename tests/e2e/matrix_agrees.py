#!/usr/bin/env python3
"""Whether the /matrix of runs of one spec on other devices or precisions agrees with a baseline
run's: the same rows, every unit done, every accuracy within 0.06 of the baseline's (Input-aware's
joint generator training is too sensitive to compare, as across rank counts), and BadNets
implanted (ASR >= 0.9) in both. The tolerance docs/gpu.md states for cuda against cpu.
Prints each row; exits 1 when any disagrees.
usage: matrix_agrees.py BASELINE.h5 RUN.h5 [RUN.h5 ...]
"""
import sys

import h5py


def rows(path):
    with h5py.File(path, "r") as f:
        return {(r["attack"].decode(), r["defense"].decode()): (r["status"].decode(), r["acc"], r["asr"])
                for r in f["matrix"][()]}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    base = rows(sys.argv[1])
    bad = 0
    for path in sys.argv[2:]:
        run = rows(path)
        if run.keys() != base.keys():
            print(f"{path}: rows {sorted(run)} but the baseline has {sorted(base)}")
            bad += 1
            continue
        for key, (status, acc, asr) in run.items():
            ok = status == "done" and base[key][0] == "done"
            ok = ok and (key[0] == "input-aware" or abs(acc - base[key][1]) <= 0.06)
            ok = ok and (key != ("badnets", "none") or (asr >= 0.9 and base[key][2] >= 0.9))
            print(f"{path.split('/')[-1]:<15} {key[0]:<12} {key[1]:<5} {status} acc {acc:.3f} "
                  f"(baseline {base[key][1]:.3f}) asr {asr:.3f}" + ("" if ok else "  <- disagrees"))
            bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
