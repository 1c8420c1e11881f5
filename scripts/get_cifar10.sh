#!/usr/bin/env bash
# Puts CIFAR-10 where the specs read it (data/cifar10: data_batch_1..5.bin, test_batch.bin) and
# checks it with `pbe_dist data cifar10`: every file, its size, every label, the release's
# 50,000/10,000 split and 5,000/1,000 images per class. SOURCE is one of
#   - the official binary tarball (cifar-10-binary.tar.gz, from https://www.cs.toronto.edu/~kriz/),
#   - a folder that holds the six batches (checked, then copied; checked in place if it is DEST),
#   - the JPEG copy cifar10-jpeg.tar.gz with cifar10_to_bin.py beside it (../shared/data here:
#     JPEG at quality 75 costs a few points of clean accuracy against the official release).
# DEST appears only once it holds the whole, checked release; an existing DEST is never touched.
# Prints one line saying what is wrong and exits 2 otherwise.
#
# usage: scripts/get_cifar10.sh SOURCE [DEST]      (DEST default: data/cifar10 in the checkout)
#        PBE_DIST=path/to/pbe_dist to check with another build (default: build/launcher/pbe_dist)
set -euo pipefail
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "get_cifar10: $*" >&2; exit 2; }
(($# >= 1 && $# <= 2)) || fail "usage: scripts/get_cifar10.sh SOURCE [DEST]"
SOURCE=$1
DEST=${2:-$SRC_DIR/data/cifar10}
PBE_DIST=${PBE_DIST:-$SRC_DIR/build/launcher/pbe_dist}
[[ -x $PBE_DIST ]] || fail "$PBE_DIST: not built (scripts/build.sh --target pbe_dist, or set PBE_DIST)"
BATCHES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)

check() { "$PBE_DIST" data cifar10 "$1" 2>&1 | sed 's/^pbe_dist: error: /get_cifar10: /'; return "${PIPESTATUS[0]}"; }

if [[ -d $SOURCE && $(realpath "$SOURCE") == $(realpath -m "$DEST") ]]; then
  REPORT=$(check "$DEST") || { echo "$REPORT" >&2; exit 2; }
  echo "$REPORT"
  exit 0
fi
[[ -e $DEST ]] && fail "$DEST exists: remove it or name another DEST"
[[ -e $SOURCE ]] || fail "$SOURCE: no such file or folder"
mkdir -p "$(dirname "$DEST")"
PARTIAL=$(mktemp -d "$DEST.partial.XXXXXX")
trap 'rm -rf "$PARTIAL"' EXIT

if [[ -d $SOURCE ]]; then
  for f in "${BATCHES[@]}"; do
    [[ -f $SOURCE/$f ]] || fail "$SOURCE/$f: file not found (a folder needs data_batch_1..5.bin and test_batch.bin)"
    cp "$SOURCE/$f" "$PARTIAL/"
  done
  [[ -f $SOURCE/batches.meta.txt ]] && cp "$SOURCE/batches.meta.txt" "$PARTIAL/"
else
  LISTING=$(tar -tzf "$SOURCE" 2> /dev/null) || fail "$SOURCE: not a readable .tar.gz archive"
  if grep -qx 'cifar-10-batches-bin/data_batch_1.bin' <<< "$LISTING"; then
    for f in "${BATCHES[@]}" batches.meta.txt; do
      grep -qx "cifar-10-batches-bin/$f" <<< "$LISTING" || fail "$SOURCE: no cifar-10-batches-bin/$f inside (truncated download?)"
    done
    tar -xzf "$SOURCE" -C "$PARTIAL" --strip-components=1 "${BATCHES[@]/#/cifar-10-batches-bin/}" \
      cifar-10-batches-bin/batches.meta.txt 2> "$PARTIAL/tar.log" ||
      fail "$SOURCE: extraction failed: $(tail -1 "$PARTIAL/tar.log")"
    rm "$PARTIAL/tar.log"
  elif grep -q '^train/airplane/.*\.jpg$' <<< "$LISTING"; then
    CONVERTER=$(dirname "$SOURCE")/cifar10_to_bin.py
    [[ -f $CONVERTER ]] || fail "$SOURCE: the JPEG copy needs cifar10_to_bin.py beside it"
    PY=python3
    [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3  # Debian's, with python3-pil and python3-numpy
    "$PY" "$CONVERTER" "$PARTIAL" "$SOURCE" > "$PARTIAL/convert.log" 2>&1 ||
      fail "$SOURCE: conversion failed: $(tail -1 "$PARTIAL/convert.log")"
    rm "$PARTIAL/convert.log"
  else
    fail "$SOURCE: neither CIFAR-10's binary tarball (cifar-10-batches-bin/) nor its JPEG copy (train/<class>/*.jpg)"
  fi
fi

REPORT=$(check "$PARTIAL") || { sed "s|$PARTIAL|$SOURCE|g" <<< "$REPORT" >&2; exit 2; }
mv -T "$PARTIAL" "$DEST"
trap - EXIT
sed "s|$PARTIAL|$DEST|g" <<< "$REPORT"
