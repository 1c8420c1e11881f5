#!/usr/bin/env python3
"""The report's figures from a pbe-dist results file (docs/results-format.md), PNG and PDF.

    python3 analysis/figures.py RESULTS.h5 OUT_DIR      (what `pbe_dist report --figures` runs)

- heatmap-<metric>-<dataset>-<model>: each metric column of /matrix (acc, asr, ra, der, rir, as the
  file's `schema` attribute lists them) over attack x defense, mean over seeds;
- pbe-steps: PBE's ACC and ASR after each step, one line per cell;
- confusion-<attack>-seed<k>: the adversarial examples' confusion matrices of the infected and the
  clean model side by side (the paper's observation);
- activations-<attack>-seed<k>: a 2-D PCA of the dumped penultimate activations, coloured by
  clean / triggered / adversarial.
Works on a file a job is still writing (it reads the last committed version). Exit 3 with the
packages to install when matplotlib, numpy or h5py is missing.
"""
import json
import os
import sys

try:
    import h5py
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # the tables do not need any of this
    print(f"figures need python3 with matplotlib, numpy and h5py ({e}): "
          "apt install python3-matplotlib python3-numpy python3-h5py", file=sys.stderr)
    sys.exit(3)


def save(fig, out, name):
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(out, f"{name}.{ext}"), dpi=150, bbox_inches="tight")
    plt.close(fig)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def schema(f, path):
    """The file's `schema` attribute: /matrix's columns with their types, kinds and docs."""
    if "schema" not in f.attrs:
        raise SystemExit(f"{path}: schema version {f.attrs.get('schema_version')} has no `schema` attribute; "
                         f"`pbe_dist merge {path} -o NEW.h5` rewrites it in this version")
    return json.loads(f.attrs["schema"])


def heatmaps(f, out, metrics):
    rows = f["matrix"][()]
    blocks = {}
    for r in rows:
        blocks.setdefault((text(r["dataset"]), text(r["model"])), []).append(r)
    for (dataset, model), block in blocks.items():
        attacks = list(dict.fromkeys(text(r["attack"]) for r in block))
        defenses = list(dict.fromkeys(text(r["defense"]) for r in block))
        for metric in metrics:
            grid = np.full((len(attacks), len(defenses)), np.nan)
            for i, a in enumerate(attacks):
                for j, d in enumerate(defenses):
                    values = [100 * r[metric] for r in block if text(r["attack"]) == a and text(r["defense"]) == d
                              and text(r["status"]) == "done"]
                    if values and not all(np.isnan(values)):
                        grid[i, j] = np.nanmean(values)
            fig, ax = plt.subplots(figsize=(1.0 + 0.9 * len(defenses), 1.0 + 0.5 * len(attacks)))
            image = ax.imshow(grid, cmap="viridis_r" if metric == "asr" else "viridis", vmin=0, vmax=100)
            ax.set_xticks(range(len(defenses)), defenses, rotation=45, ha="right")
            ax.set_yticks(range(len(attacks)), attacks)
            for i in range(len(attacks)):
                for j in range(len(defenses)):
                    label = "-" if np.isnan(grid[i, j]) else f"{grid[i, j]:.0f}"
                    ax.text(j, i, label, ha="center", va="center", color="w" if not np.isnan(grid[i, j]) else "k",
                            fontsize=7)
            ax.set_title(f"{metric.upper()} (%) — {dataset} / {model}")
            fig.colorbar(image, ax=ax, fraction=0.04)
            save(fig, out, f"heatmap-{metric}-{dataset}-{model}")


def cells(f):
    """(path, attack, seed) of every cell group in the file."""
    found = []
    def visit(name, obj):
        parts = name.split("/")
        if len(parts) == 5 and parts[0] == "cells" and parts[4].startswith("seed") and isinstance(obj, h5py.Group):
            found.append((name, parts[3], parts[4][4:]))
    f.visit(lambda name: visit(name, f[name]))
    return found


def pbe_steps(f, out):
    curves = []
    for path, attack, seed in cells(f):
        if "defenses" not in f[path]:
            continue
        for defense, group in f[path]["defenses"].items():
            steps = group.get("steps")
            if steps is not None and "clean_precision" in steps:
                curves.append((f"{attack} s{seed} {defense}", steps["acc"][()], steps["asr"][()]))
    if not curves:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), sharex=True)
    for label, acc, asr in curves:
        left.plot(range(len(acc)), 100 * acc, marker="o", label=label)
        right.plot(range(len(asr)), 100 * asr, marker="o", label=label)
    left.set(title="ACC (%) after each PBE step", xlabel="step")
    right.set(title="ASR (%) after each PBE step", xlabel="step")
    left.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # steps are whole
    right.legend(fontsize=7)
    save(fig, out, "pbe-steps")


def probes(f, out):
    for path, attack, seed in cells(f):
        group = f[path].get("attack/probes")
        if group is None or "infected" not in group:
            continue
        models = [m for m in ("infected", "clean") if m in group]
        fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.8), squeeze=False)
        for ax, m in zip(axes[0], models):
            confusion = group[m]["confusion"][()]
            ax.imshow(confusion, cmap="Blues")
            ax.set(title=f"{m} model: {100 * group[m].attrs['target_fraction']:.1f}% on the target",
                   xlabel="adversarial prediction", ylabel="true label")
        fig.suptitle(f"{attack} (seed {seed}): untargeted adversarial examples")
        save(fig, out, f"confusion-{attack}-seed{seed}")

        dumps = group["infected"].get("activations")
        if dumps is None or "clean" not in dumps:
            continue
        kinds = [k for k in ("clean", "triggered", "adversarial") if k in dumps and "penultimate" in dumps[k]]
        features = {k: dumps[k]["penultimate"][()] for k in kinds}
        stacked = np.concatenate(list(features.values()))
        centred = stacked - stacked.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        fig, ax = plt.subplots(figsize=(4.5, 4))
        for k in kinds:
            xy = (features[k] - stacked.mean(axis=0)) @ vt[:2].T
            ax.scatter(xy[:, 0], xy[:, 1], s=6, alpha=0.6, label=k)
        ax.set(title=f"{attack} (seed {seed}): infected model's penultimate layer, PCA", xlabel="PC 1", ylabel="PC 2")
        ax.legend()
        save(fig, out, f"activations-{attack}-seed{seed}")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with h5py.File(path, "r", locking=False) as f:
        metrics = [c["name"] for c in schema(f, path)["matrix"] if c["kind"] == "metric"]
        heatmaps(f, out, metrics)
        pbe_steps(f, out)
        probes(f, out)
    print(f"figures: {len(os.listdir(out))} files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
