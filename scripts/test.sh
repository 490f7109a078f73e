#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run calls this):
#   set-up → exercises/ freshness → build (warnings are errors) → every test except the learner's
#   (solutions, stub check, engine, programs, GPU tests that skip without a GPU) → the CPU-only
#   build with ASan+UBSan and its tests → the concurrency tests under TSan → the book render
#   (zero Doxygen warnings).
# Ends with one line "test.sh: N passed, N failed, N skipped".
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$GNM_ROOT"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
step() { printf '\n==> %s\n' "$*"; }

step "set-up"
bash scripts/setup.sh

step "exercises/ is what scripts/make_exercises.py generates from solutions/"
python3 scripts/make_exercises.py --check
python3 -m unittest discover -s scripts/tests -q

step "the book's measured tables are what their results files give"
python3 scripts/fill_book_tables.py --check book/*.md

step "build (preset default, warnings as errors)"
cmake --preset default -DGNM_WERROR=ON >/dev/null
cmake --build --preset default -j "$GNM_JOBS"

step "tests (all but the learner's: ctest -LE exercise)"
# NVRTC is part of the toolkit here: its tests must run, not skip (chapter 7.2, exercise 7.1).
GNM_REQUIRE_NVRTC=1 ctest --preset default --output-junit "$results/default.xml" || true

step "CPU-only build with AddressSanitizer + UBSan, and its tests"
cmake --preset asan -DGNM_WERROR=ON >/dev/null
cmake --build --preset asan -j "$GNM_JOBS"
ctest --preset asan --output-junit "$results/asan.xml" || true

step "ThreadSanitizer: thread pool, channel, prefetching loaders, caching allocator, multithreaded GEMMs, autocast's thread-local state, emulated CUDA kernels of the engine and the chapters (shared-memory and warp races), chapter 5 (preset tsan)"
# Every target whose tests the regex selects is built: a target left unbuilt would drop its tests.
cmake --preset tsan -DGNM_WERROR=ON >/dev/null
cmake --build --preset tsan -j "$GNM_JOBS" \
  --target gnm_engine_tests gnm_emu_tests ch05_parallel ch05_tests_solution ch05_tests_stub ch05_racy_counter \
  ch00_tests_solution ch06_tests_solution ch06_ladder_emu_tests
ctest --preset tsan -R '^(engine/(ThreadPool|Sgemm|Channel|PrefetchLoader|DataLoader|CachingAllocator|HostAllocator|QuantizeGemm|Autocast|CudaHostEmulator|[A-Za-z0-9]+Emulated)\.|ch05/|ch0[06]/solution/[A-Za-z0-9]+Emulated\.|ch06/ladder/LadderEmulated\.)' \
  --output-junit "$results/tsan.xml" || true

step "book (Doxygen, warnings are errors)"
cmake --build --preset default --target book

python3 scripts/ctest_summary.py "$results"/*.xml
