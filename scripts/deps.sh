#!/usr/bin/env bash
# Assembles deps/: the third-party headers and libraries the build takes besides LibTorch, MPI,
# HDF5 and yaml-cpp (spdlog and fmt as header-only, CLI11, Google Benchmark, GoogleTest), copied
# from Debian's packages, which scripts/setup.sh installs. Every build takes them from here
# (cmake/Deps.cmake), so the GPU machine, which has none of them, builds exactly what CI builds
# once the folder is carried there (scripts/gpu_check.sh). Idempotent; about 3 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

MULTIARCH=$(gcc -print-multiarch)
LIB=/usr/lib/$MULTIARCH
HEADERS=(spdlog fmt CLI benchmark gtest)
LIBS=(libbenchmark.so.1.7.1 libgtest.a libgtest_main.a)
STAMP="headers: ${HEADERS[*]}; libraries: ${LIBS[*]}; from $(dpkg-query -W -f='${Package} ${Version}; ' \
  libspdlog-dev libfmt-dev libcli11-dev libbenchmark-dev libgtest-dev)"

if [[ -f deps/STAMP && $(cat deps/STAMP) == "$STAMP" ]]; then
  echo "deps: up to date"
  exit 0
fi
rm -rf deps.tmp
mkdir -p deps.tmp/include deps.tmp/lib
for h in "${HEADERS[@]}"; do cp -r "/usr/include/$h" deps.tmp/include/; done
for l in "${LIBS[@]}"; do cp "$LIB/$l" deps.tmp/lib/; done
# Google Benchmark's soname: the name the dynamic loader looks for beside the binaries' RUNPATH.
ln -s libbenchmark.so.1.7.1 "deps.tmp/lib/$(objdump -p "$LIB/libbenchmark.so.1.7.1" | awk '/SONAME/ {print $2}')"
echo "$STAMP" > deps.tmp/STAMP
rm -rf deps
mv deps.tmp deps
echo "deps: assembled deps/ ($(du -sh deps | cut -f1))"
