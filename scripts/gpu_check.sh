#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU (CUDA toolkit, CMake, Ninja, a C++ compiler;
# Debian's -dev packages optional: without them run scripts/fetch_gpu_deps.sh on a Debian machine
# first and bring .deps/ along).
#   1. builds the default configuration for this GPU (build-gpu/),
#   2. runs every `gpu` test with GNM_REQUIRE_GPU=1 (a skip becomes a failure),
#   3. runs the GPU test binaries under compute-sanitizer memcheck and racecheck,
#   4. runs the GPU benchmarks (chapter programs with --json, Google Benchmark *_bench programs),
#   5. writes results.json (device, driver, clocks, commit, date, test counts, figures) into
#      $GNM_RESULTS_DIR (default: $OUT if set, else build-gpu/) and book/results/.
# Exits non-zero when a test or a sanitizer run failed; results.json is written in any case.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$GNM_ROOT"

build=build-gpu
out_dir=${GNM_RESULTS_DIR:-${OUT:-$build}}
mkdir -p "$out_dir" "$build"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
step() { printf '\n==> %s\n' "$*"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check.sh: no working nvidia-smi: this machine has no usable NVIDIA GPU" >&2
  exit 2
fi

step "configure and build ($build)"
cmake_args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGNM_CPU_ARCH=native)
if [[ -d .deps/root/usr ]]; then
  # Debian's packages unpacked by scripts/fetch_gpu_deps.sh; name each config directory so that a
  # non-Debian machine (no multiarch lib/x86_64-linux-gnu search path) finds them too.
  deps=$GNM_ROOT/.deps/root/usr
  cmake_args+=("-DCMAKE_PREFIX_PATH=$deps" "-DGTest_DIR=$deps/lib/x86_64-linux-gnu/cmake/GTest"
               "-Dbenchmark_DIR=$deps/lib/x86_64-linux-gnu/cmake/benchmark"
               "-DCLI11_DIR=$deps/share/cmake/CLI11")
  export LD_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# Build for the GPU that is here (sm_90 on H100/H200); GNM_CUDA_ARCH overrides.
cmake_args+=("-DCMAKE_CUDA_ARCHITECTURES=${GNM_CUDA_ARCH:-native}")
if ! cmake "${cmake_args[@]}" >"$work/configure.log" 2>&1; then
  cat "$work/configure.log" >&2
  echo "gpu_check.sh: configure failed; if GTest/CLI11 are missing, run scripts/fetch_gpu_deps.sh" \
       "on a Debian 12 machine and bring .deps/ along" >&2
  exit 2
fi
cmake --build "$build" -j "$GNM_JOBS" || exit 2
# GNM_GPU_CHECK_BUILD_ONLY=1 stops here: on a machine whose commands have a time limit (the
# device tool's is 10 minutes), build in one command and run the checks in the next.
if [[ ${GNM_GPU_CHECK_BUILD_ONLY:-0} == 1 ]]; then
  echo "gpu_check.sh: built $build (GNM_GPU_CHECK_BUILD_ONLY=1: no tests run)"
  exit 0
fi

step "GPU tests (GNM_REQUIRE_GPU=1)"
export GNM_REQUIRE_GPU=1
ctest --test-dir "$build" -L gpu -LE exercise --output-on-failure --output-junit "$work/gpu.xml" ||
  status=1

step "compute-sanitizer (memcheck, racecheck) on the GPU test binaries"
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
declare -A san_result
for exe in "$build"/tests/gnm_gpu_tests "$build"/tests/ch*/ch*_gpu_tests_solution \
           "$build"/tests/ch*/ch*_*_gpu_tests; do
  [[ -x $exe ]] || continue
  for tool in memcheck racecheck; do
    name="$(basename "$exe"):$tool"
    if "$sanitizer" --tool "$tool" --error-exitcode 1 "$exe" >"$work/san.log" 2>&1; then
      san_result[$name]=ok
    else
      san_result[$name]=failed
      status=1
      tail -n 40 "$work/san.log"
    fi
    echo "  $name: ${san_result[$name]}"
  done
done

step "GPU benchmarks"
# Buffers far larger than the 50 MB L2: 2^28 floats = 1 GiB per array.
"$build"/chapters/ch00_hello_gpu/ch00_hello_gpu --device cuda --n 268435456 --repeat 50 \
  --json "$work/ch00_hello_gpu.json" || status=1
# Chapters 6–8: every section at full size (each program verifies every kernel before timing it).
# Their results go to book/results/<program>_<gpu>_<date>.json, where the chapter pages and 6.6's
# roofline (which places the kernels of chapters 6–8, so chapter 6 runs last) read them.
gpu_tag=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 |
          tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/-$//')
date_tag=$(date -u +%Y-%m-%d)
for program in ch07_cuda_from_cpp ch08_gpu_memory ch06_gpu_architecture; do
  exe="$build/chapters/$program/$program"
  [[ -x $exe ]] || { echo "gpu_check.sh: $exe was not built" >&2; status=1; continue; }
  extra=()
  [[ $program == ch06_gpu_architecture ]] && extra=(--figures-dir book/images)
  "$exe" --json "$work/$program.json" "${extra[@]}" || status=1
  if [[ -f $work/$program.json ]]; then
    cp "$work/$program.json" "book/results/${program}_${gpu_tag:-gpu}_${date_tag}.json"
    cp "$work/$program.json" "$out_dir/${program}_${gpu_tag:-gpu}_${date_tag}.json"
  fi
done
# 6.6 once more, now that chapter 6's own results are in book/results: its roofline places them.
"$build"/chapters/ch06_gpu_architecture/ch06_gpu_architecture --section 6.6 \
  --figures-dir book/images >/dev/null || status=1
# The figures the programs drew (6.3 latency, 6.6 roofline…), for a remote run's $OUT too.
mkdir -p "$out_dir/images" && cp book/images/ch0[678]_*.svg "$out_dir/images/" 2>/dev/null || true
for bench in "$build"/chapters/*/*_bench; do
  [[ -x $bench ]] || continue
  "$bench" --benchmark_format=json --benchmark_out="$work/bench_$(basename "$bench").json" \
    --benchmark_out_format=json >/dev/null || status=1
done

step "results.json"
commit=${GNM_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,power.limit,memory.total \
  --format=csv,noheader >"$work/smi.csv" 2>/dev/null || true
sanitizer_json=$(for k in "${!san_result[@]}"; do printf '"%s": "%s",' "$k" "${san_result[$k]}"; done)
python3 - "$work" "$out_dir/results.json" "$commit" "{${sanitizer_json%,}}" <<'PY'
import datetime, glob, json, os, sys
import xml.etree.ElementTree as ET
work, out, commit, sanitizer = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
fields = ["name", "driver", "clock_sm_mhz", "clock_mem_mhz", "max_clock_sm_mhz",
          "max_clock_mem_mhz", "power_limit", "memory_total"]
smi = open(os.path.join(work, "smi.csv")).read().strip().splitlines()
device = dict(zip(fields, [s.strip() for s in smi[0].split(",")])) if smi else {}
tests = {"passed": 0, "failed": 0, "skipped": 0, "failed_names": []}
if os.path.exists(os.path.join(work, "gpu.xml")):
    for case in ET.parse(os.path.join(work, "gpu.xml")).getroot().iter("testcase"):
        if case.find("failure") is not None or case.get("status") == "fail":
            tests["failed"] += 1; tests["failed_names"].append(case.get("name"))
        elif case.find("skipped") is not None or case.get("status") == "notrun":
            tests["skipped"] += 1
        else:
            tests["passed"] += 1
results = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, "ch*.json")))]
benchmarks = {os.path.basename(p)[6:-5]: json.load(open(p))
              for p in sorted(glob.glob(os.path.join(work, "bench_*.json")))}
doc = {"kind": "gpu_check", "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
       "commit": commit, "device": device, "tests": tests, "sanitizer": sanitizer,
       "results": results, "benchmarks": benchmarks}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(tmp, out)
print(f"gpu tests: {tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped")
PY
date_tag=$(date -u +%Y-%m-%d)
gpu_tag=$(head -n1 "$work/smi.csv" 2>/dev/null | cut -d, -f1 | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/-$//')
cp "$out_dir/results.json" "book/results/gpu_check_${gpu_tag:-gpu}_${date_tag}.json" 2>/dev/null || true
echo "gpu_check.sh: results in $out_dir/results.json and book/results/ (status $status)"
exit $status
