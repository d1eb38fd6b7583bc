#!/usr/bin/env bash
# Fuzzes the configuration loader with clang's libFuzzer for a while (not part of CI):
#   tools/fuzz.sh [SECONDS]   (default 60)
# Our code is built with coverage instrumentation (-fsanitize=fuzzer-no-link) and ASan + UBSan;
# yaml-cpp is the system library, so its branches guide nothing and only the corpus and mutation
# reach into it. A run that finds a crash, a hang (-timeout) or runaway memory (-rss_limit_mb)
# leaves the input in build-fuzz/findings/: add it to tests/fuzz/corpus/config_loader once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DNLB_BUILD_FUZZERS=ON -DNLB_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-fuzz --target config_loader_fuzzer
mkdir -p build-fuzz/corpus build-fuzz/findings
build-fuzz/tests/fuzz/config_loader_fuzzer build-fuzz/corpus tests/fuzz/corpus/config_loader \
  -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -max_len=4096 \
  -artifact_prefix=build-fuzz/findings/
