#!/usr/bin/env bash
# The README's test command: installs what is missing, builds nlb three times (optimised with
# warnings as errors, under AddressSanitizer + UndefinedBehaviorSanitizer, and the unit tests
# that run threads under ThreadSanitizer), and runs every test of each.
# Integration tests (label "integration") need root and run only in the optimised build.
# The Debian package is built from the optimised build and checked right after it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
jobs=$(nproc)

# ccache keeps compiled objects between runs on one machine. Paths are rewritten relative to the
# checkout and the working directory is left out of the hash, so a fresh clone in another folder
# hits the objects of the last run; a new machine simply starts cold.
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/nlb-ccache} CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

echo "== build: RelWithDebInfo, -Werror"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNLB_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build build -j"$jobs"

echo "== package: build the .deb from build/, lintian, install, check, purge (about a minute)"
bash tests/package/package_test.sh build || [ $? -eq 77 ]  # 77: not root, skipped

echo "== build: Sanitize (ASan + UBSan), -Werror"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DNLB_WERROR=ON \
  -DNLB_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
cmake --build build-sanitize -j"$jobs"

echo "== unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-sanitize --output-on-failure -j"$jobs" -LE integration

echo "== build: Tsan (ThreadSanitizer), -Werror: only the unit tests that run threads"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Tsan -DNLB_WERROR=ON \
  -DNLB_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
cmake --build build-tsan -j"$jobs" --target nlb_thread_tests

echo "== unit tests that run threads (label threads), under TSan"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L threads -LE integration

echo "== all tests (unit and integration), optimised build"
ctest --test-dir build --output-on-failure -j1
