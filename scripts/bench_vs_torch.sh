#!/usr/bin/env bash
# Chapter 10's speed comparison: trains the same MLP (784-256-128-10, ReLU, Adam, cross entropy,
# batch 128) with gnm and with PyTorch from PyPI, alternating the two R times, with the same thread
# count, and prints the samples/s of each and the ratio (median of the rounds). Not part of CI.
#
#   scripts/bench_vs_torch.sh [--threads 2] [--batch 128] [--steps 400] [--rounds 3] [--device cpu|cuda]
#
# With --json PATH it also writes a results file (program "bench_vs_torch") whose table the
# chapter 10 page shows, e.g. --json book/results/bench_vs_torch_xeon-spr-2core_2026-11-24.json.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$GNM_ROOT"

threads=2 batch=128 steps=400 rounds=3 device=cpu json=""
while (($#)); do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "bench_vs_torch.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

py=$(bash scripts/torch_env.sh)
cmake --preset default >/dev/null
cmake --build --preset default --target ch10_training -j "$GNM_JOBS" >/dev/null
ours=./build/chapters/ch10_training/ch10_training

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
  GNM_NUM_THREADS=$threads "$ours" --bench --batch "$batch" --steps "$steps" --device "$device" | tail -n 1 >>"$results"
  OMP_NUM_THREADS=$threads "$py" scripts/bench/torch_mlp.py --threads "$threads" --batch "$batch" \
    --steps "$steps" --device "$device" | tail -n 1 >>"$results"
done

python3 - "$results" "$json" "$threads" "$batch" "$device" "$steps" "$rounds" <<'PY'
import datetime, json, os, platform, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = {}
for r in rows:
    by.setdefault(r["framework"], []).append(r["samples_per_s"])
gnm = statistics.median(by["gnm"]); torch = statistics.median(by["pytorch"])
print(f"gnm     {gnm:10.0f} samples/s  (rounds: {', '.join(f'{v:.0f}' for v in by['gnm'])})")
print(f"pytorch {torch:10.0f} samples/s  (rounds: {', '.join(f'{v:.0f}' for v in by['pytorch'])})")
print(f"ratio gnm/pytorch: {gnm / torch:.2f}x")
if sys.argv[2]:
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    torch_version = next((r.get("torch") for r in rows if r["framework"] == "pytorch"), "?")
    threads, batch, device = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    table = [{"framework": "gnm (this engine)", "median samples/s": gnm,
              "rounds": ", ".join(f"{v:.0f}" for v in by["gnm"]), "vs PyTorch": gnm / torch},
             {"framework": f"PyTorch {torch_version} eager", "median samples/s": torch,
              "rounds": ", ".join(f"{v:.0f}" for v in by["pytorch"]), "vs PyTorch": 1.0}]
    out = {"program": "bench_vs_torch",
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": {"cpu": cpu, "cores": os.cpu_count(),
                       "gpu": "none" if device == "cpu" else device},
           "backend": f"{device} ({threads} threads)",
           "parameters": {"model": "784-256-128-10 ReLU, Adam 1e-3, cross entropy", "batch": batch,
                          "threads": threads, "steps": int(sys.argv[6]), "rounds": int(sys.argv[7]),
                          "torch": torch_version},
           "figures": {"gnm_samples_per_s": gnm, "pytorch_samples_per_s": torch,
                       "ratio_gnm_over_pytorch": gnm / torch},
           "tables": {"10.1 speed vs PyTorch": {"rows": table}},
           "verified": True}
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    os.replace(tmp, sys.argv[2])
    print(f"results written to {sys.argv[2]}")
PY
