#!/usr/bin/env bash
# `pbe_dist purify` end to end: a TorchScript model and IDX data the user brings, every method the
# README offers for TorchScript (pbe, aft, ft, ibau, nc, mcr, fst, ft-sam, sau) under mpirun with 2 ranks, each
# purified model read back with PyTorch (changed weights, the ACC purify printed); fp, nad and anp
# refused; bad input refused.
# usage: purify.sh PBE_DIST MPIEXEC WRITE_PURIFY_FIXTURE TORCH_PYTHON SOURCE_DIR
set -uo pipefail
PBE_DIST=$1 MPIEXEC=$2 FIXTURE=$3 TORCH_PYTHON=$4 SRC=$5
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$FIXTURE" "$W" || fail "could not write the fixture"

# run CODE command...: exit code CODE; stdout in $W/stdout, stderr in $W/stderr.
run() {
  local code=$1
  shift
  "$@" > "$W/stdout" 2> "$W/stderr"
  local got=$?
  [[ $got == "$code" ]] || fail "exit $got (expected $code) from: $*; stderr: $(tail -5 "$W/stderr")"
}
has() { grep -qE -e "$2" "$W/$1" || fail "$1 lacks /$2/: $(cat "$W/$1")"; }
# checked INPUT OUTPUT: the model purify wrote (from INPUT; its stdout in $W/stdout) loads in
# PyTorch, differs from INPUT, and has the ACC purify printed.
checked() { "$TORCH_PYTHON" "$SRC/tests/e2e/check_purified.py" "$1" "$2" "$W/data" "$W/stdout" || fail "$2"; }
# learned: the ACC after purifying ($W/stdout) is at least $1 points above the random model's.
learned() {
  sed -nE 's/.*ACC ([0-9.]+)% -> ([0-9.]+)% on .*/\1 \2/p' "$W/stdout" | awk -v need="$1" '{ if ($2 - $1 >= need) ok = 1 } END { exit !ok }' ||
    fail "ACC did not gain $1 points: $(cat "$W/stdout")"
}

# PBE, 2 ranks: 5% of 512 rows, then the top 50%.
PBE_ARGS=(--set steps=2 --set "fractions=[0.5]" --set epochs_per_step=2 --set adversarial_batches=2)
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" --method pbe "${PBE_ARGS[@]}" \
    --out "$W/pbe.pt"
has stdout "^purify: pbe on $W/data \(512 training images\)"
has stdout "step 0: fine-tuned on 26 rows, ACC [0-9.]+%"
has stdout "step 1: fine-tuned on 256 rows"
has stdout "kept 256 of 512 training rows"
has stdout "ACC [0-9.]+% -> [0-9.]+% on 256 test images"
has stderr "\[rank 0/2\] \[info\] purify pbe: .*pbe step"
[[ -s "$W/pbe.pt" ]] && ! ls "$W" | grep -q "pbe.pt.partial" || fail "no purified model, or a partial file left: $(ls "$W")"
checked "$W/model.pt" "$W/pbe.pt"

# The purified model loads again as TorchScript: AFT on it with a clean set that has no test split.
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/pbe.pt" --data "$W/data" --method aft --clean "$W/clean" \
    --set epochs=2 --set adversarial_epochs=1 --out "$W/aft.pt"
has stdout "^purify: aft on"
checked "$W/pbe.pt" "$W/aft.pt"

# A baseline defense on the same TorchScript model: Neural Cleanse reverses a trigger per class and
# reports what it flagged.
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" --method nc --clean "$W/clean" \
    --set epochs=2 --set unlearn_epochs=1 --out "$W/nc.pt"
has stdout "^purify: nc on"
has stdout "flagged classes: ([0-9, ]+ \(trigger L1 [0-9.]+, anomaly index [0-9.]+\)|none \(the model is left as it was\))"
checked "$W/model.pt" "$W/nc.pt"

# The other clean-data methods: each fine-tunes the (random) model on the 128 clean rows, so its
# accuracy rises far above chance (10%).
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" --method ft --clean "$W/clean" \
    --out "$W/ft.pt"
checked "$W/model.pt" "$W/ft.pt"
learned 20
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" --method ibau --clean "$W/clean" \
    --set rounds=2 --out "$W/ibau.pt"
checked "$W/model.pt" "$W/ibau.pt"
learned 20
# Progress counts the clean set given (128 rows, 25% of --data), not 5% of --data: 100% only at
# the end (the estimate from 5% once reached 100% after the first of the two rounds).
[[ $(grep -c "done 100%" "$W/stderr") == 1 && $(grep "done [0-9]*%" "$W/stderr" | tail -1) == *"done 100%"* ]] ||
  fail "ibau's progress reached 100% before its end: $(grep "done" "$W/stderr")"
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" --method mcr --clean "$W/clean" \
    --out "$W/mcr.pt"
checked "$W/model.pt" "$W/mcr.pt"
learned 20
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model_linear.pt" --data "$W/data" --method fst --clean "$W/clean" \
    --out "$W/fst.pt"
checked "$W/model_linear.pt" "$W/fst.pt"
learned 20
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" --method ft-sam --clean "$W/clean" \
    --set epochs=20 --out "$W/ft-sam.pt"
checked "$W/model.pt" "$W/ft-sam.pt"
learned 20
# SAU's unlearning needs a model that classifies: it runs on the FT model (as TorchScript) here.
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/ft.pt" --data "$W/data" --method sau --clean "$W/clean" \
    --set rounds=3 --out "$W/sau.pt"
checked "$W/ft.pt" "$W/sau.pt"

# Bad input: one line naming the file and the problem, exit 2, nothing written.
bad() {
  local pattern=$1
  shift
  run 2 "$MPIEXEC" -n 2 "$PBE_DIST" purify "$@"
  has stderr "$pattern"
  [[ $(grep -c "error" "$W/stderr") == 1 ]] || fail "expected exactly one error line: $(cat "$W/stderr")"
}
bad "garbage.pt: not a TorchScript model" --model "$W/garbage.pt" --data "$W/data" --out "$W/x.pt"
# A user's state_dict saved with torch.save is refused before anything loads it.
"$TORCH_PYTHON" -c "import torch, sys; torch.save({'w': torch.zeros(3)}, sys.argv[1])" "$W/weights.pt" || fail "torch.save"
bad "weights.pt: not a TorchScript model but torch.save's pickled objects: save it with torch.jit.script" \
  --model "$W/weights.pt" --data "$W/data" --out "$W/x.pt"
bad "model_frozen.pt: the model has no parameters that require grad" --model "$W/model_frozen.pt" --data "$W/data" --out "$W/x.pt"
bad "model_5class.pt: the model maps \[2, 1, 28, 28\] images to shape \[2, 5\], the data needs logits \[N, 10\]" \
    --model "$W/model_5class.pt" --data "$W/data" --out "$W/x.pt"
bad "model_rgb.pt: the model cannot take the data's images \[2, 1, 28, 28\]" --model "$W/model_rgb.pt" --data "$W/data" --out "$W/x.pt"
bad "nodata/train-images-idx3-ubyte.gz: file not found" --model "$W/model.pt" --data "$W/nodata" --out "$W/x.pt"
bad "--method aft needs clean extra data: --clean DIR" --model "$W/model.pt" --data "$W/data" --method aft --out "$W/x.pt"
bad "--clean is for the clean-data methods; --method pbe works from the \\(possibly poisoned\\) --data alone" --model "$W/model.pt" \
    --data "$W/data" --clean "$W/clean" --out "$W/x.pt"
bad "--method nc needs clean extra data: --clean DIR" --model "$W/model.pt" --data "$W/data" --method nc --out "$W/x.pt"
bad "fp: the model exposes no last convolutional layer to prune" --model "$W/model.pt" --data "$W/data" --method fp \
    --clean "$W/clean" --out "$W/x.pt"
bad "nad: betas has 3 weights but the model exposes 0 stages" --model "$W/model.pt" --data "$W/data" --method nad \
    --clean "$W/clean" --out "$W/x.pt"
bad "fst: the model's logits come from no linear layer it exposes" --model "$W/model.pt" --data "$W/data" \
    --method fst --clean "$W/clean" --out "$W/x.pt"
bad "anp: the model exposes no batch-norm or convolution layers to mask" --model "$W/model.pt" --data "$W/data" \
    --method anp --clean "$W/clean" --out "$W/x.pt"
bad "purify --set:1: pgd.epz: unknown key" --model "$W/model.pt" --data "$W/data" --set pgd.epz=0.1 --out "$W/x.pt"
bad "pbe: fractions needs steps - 1 = 3 values, got 1" --model "$W/model.pt" --data "$W/data" --set "fractions=[0.5]" --out "$W/x.pt"
[[ ! -e "$W/x.pt" ]] || fail "a model was written for bad input"

# An existing output is refused and left byte-for-byte intact.
cp "$W/aft.pt" "$W/keep.pt"
bad "aft.pt: exists; pass --overwrite to replace it" --model "$W/model.pt" --data "$W/data" "${PBE_ARGS[@]}" --out "$W/aft.pt"
cmp -s "$W/aft.pt" "$W/keep.pt" || fail "an existing model was modified"
# With --overwrite it is replaced: PBE's model from model.pt.
run 0 "$MPIEXEC" -n 2 "$PBE_DIST" purify --model "$W/model.pt" --data "$W/data" "${PBE_ARGS[@]}" --out "$W/aft.pt" --overwrite
checked "$W/model.pt" "$W/aft.pt"
echo "purify end to end: ok"
