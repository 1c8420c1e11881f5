"""Checks a pbe_dist results file with h5py alone (nothing from this project).

usage: check_results.py RESULTS.h5 RANKS [OTHER.h5]
OTHER.h5, if given, is the same spec run on another rank count: its /matrix must match.
"""
import json
import math
import os
import sys

import h5py
import numpy as np


def check_schema(schema, f_version, dtype):
    """The `schema` attribute names /matrix's columns in order with their types, and
    docs/results-format.md's field table is the schema's, row for row."""
    assert schema["version"] == f_version >= 2, (schema["version"], f_version)
    columns = schema["matrix"]
    assert [c["name"] for c in columns] == list(dtype.names), ([c["name"] for c in columns], dtype.names)
    numeric = {"int32": np.int32, "int64": np.int64, "float64": np.float64}
    for c in columns:
        t = dtype[c["name"]]
        if c["type"] == "string":
            assert h5py.check_string_dtype(t) is not None, (c, t)
        else:
            assert t == numeric[c["type"]], (c, t)
    assert {c["kind"] for c in columns} == {"key", "outcome", "metric", "detail"}, columns
    doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "results-format.md")).read()
    for c in columns:
        row = f"| {c['name']} | {c['type']} | {c['kind']} | {c['doc']} |"
        assert row in doc, f"docs/results-format.md lacks the /matrix row: {row}"


def main():
    path, ranks = sys.argv[1], int(sys.argv[2])
    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] >= 2
        assert "attacks:" in f["spec"][()].decode()
        prov = f["provenance"]
        assert prov.attrs["ranks"] == ranks, prov.attrs["ranks"]
        assert len(prov.attrs["hosts"]) == ranks
        assert prov.attrs["end_time"], "end_time missing"
        m = f["matrix"][()]
        check_schema(json.loads(f.attrs["schema"]), f.attrs["schema_version"], m.dtype)
        rows = {(r["attack"].decode(), r["defense"].decode()): r for r in m}
        assert set(rows) == {(a, d) for a in ("none", "badnets", "input-aware") for d in ("none", "ft")}, rows
        assert all(r["status"].decode() == "done" for r in m)
        clean, infected = rows[("none", "none")], rows[("badnets", "none")]
        assert clean["acc"] > 0.9, clean["acc"]
        assert math.isnan(clean["asr"])
        assert infected["asr"] > 0.9, infected["asr"]
        # DER against the cell's undefended row (metrics.md): 0.5 for that row itself, and for FT
        # from the two rows' ACC and ASR.
        assert abs(infected["der"] - 0.5) < 1e-12
        ft = rows[("badnets", "ft")]
        der = (max(0.0, infected["asr"] - ft["asr"]) - max(0.0, infected["acc"] - ft["acc"]) + 1) / 2
        assert abs(ft["der"] - der) < 1e-9, (ft["der"], der)
        cell = f["cells/synthetic/small-cnn/badnets/seed0"]
        assert cell.attrs["status"] == "done"
        mask = cell["attack/poison_mask"][()]
        assert mask.sum() == 60, mask.sum()
        assert cell["attack/trigger/trigger_mask"].shape == (12, 12)
        probes = cell["attack/probes"]
        assert set(probes) == {"infected", "clean"}, list(probes)
        for model in ("infected", "clean"):
            p = probes[model]
            assert p["confusion"].shape == (4, 4)
            assert p["confusion"][()].sum() == p.attrs["samples"] > 0
            assert 0 <= p.attrs["target_fraction"] <= 1 and 0 <= p.attrs["adversarial_overlap"] <= 1
            # Activation dumps (default: 256 images, penultimate layer), chunked and compressed.
            dumps = p["activations"]
            n = min(256, int(p.attrs["samples"]))
            dumped, labels = dumps["rows"][()], dumps["labels"][()]
            assert dumped.shape == labels.shape == (n,) and (labels != 0).all(), (dumped.shape, labels)
            shapes = {dumps[k + "/penultimate"].shape for k in ("clean", "triggered", "adversarial")}
            assert len(shapes) == 1 and next(iter(shapes))[0] == n, shapes
            d = dumps["adversarial/penultimate"]
            assert d.chunks is not None and d.compression == "gzip", (d.chunks, d.compression)
            assert not (d[()] == dumps["clean/penultimate"][()]).all()
        assert "probes" not in f["cells/synthetic/small-cnn/none/seed0/attack"]
        ia = f["cells/synthetic/small-cnn/input-aware/seed0/attack"]
        assert ia["trigger/pattern_generator/conv1.weight"].shape == (16, 1, 3, 3)
        assert ia["trigger/mask_generator/conv9.weight"].shape == (1, 16, 3, 3)
        assert ia["metrics"].attrs["poison_count"] == 60
        curve = cell["attack/curves"]
        assert len(curve["loss"]) == 4 and curve["loss"][-1] < curve["loss"][0]
        assert math.isclose(cell["defenses/ft/metrics"].attrs["acc"], rows[("badnets", "ft")]["acc"])
        if len(sys.argv) > 3:
            with h5py.File(sys.argv[3], "r") as g:
                other = {(r["attack"], r["defense"]): r for r in g["matrix"][()]}
            for r in m:
                # Input-aware trains its generators with Adam through a steep mask threshold:
                # float summation order (rank count) decides near-zero gradient signs, so runs
                # on different rank counts end in different generators (the MPI tests check the
                # first steps agree).
                if r["attack"] == b"input-aware":
                    continue
                o = other[(r["attack"], r["defense"])]
                for k in ("acc", "asr", "ra"):
                    assert (math.isnan(r[k]) and math.isnan(o[k])) or abs(r[k] - o[k]) <= 0.006, (k, r, o)
    print("check_results: ok")


if __name__ == "__main__":
    main()
