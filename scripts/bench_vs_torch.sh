#!/usr/bin/env bash
# Chapter 10's speed comparison: trains the same MLP (784-256-128-10, ReLU, Adam, cross entropy,
# batch 128) with gnm and with PyTorch from PyPI, alternating the two R times, with the same thread
# count, and prints the samples/s of each and the ratio (median of the rounds). Not part of CI.
#
#   scripts/bench_vs_torch.sh [--threads 2] [--batch 128] [--steps 400] [--rounds 3] [--device cpu|cuda]
#
# Writes book/results/ch10_bench_vs_torch_<host>_<date>.json when --json PATH is given.
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

python3 - "$results" "$json" "$threads" "$batch" "$device" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = {}
for r in rows:
    by.setdefault(r["framework"], []).append(r["samples_per_s"])
gnm = statistics.median(by["gnm"]); torch = statistics.median(by["pytorch"])
print(f"gnm     {gnm:10.0f} samples/s  (rounds: {', '.join(f'{v:.0f}' for v in by['gnm'])})")
print(f"pytorch {torch:10.0f} samples/s  (rounds: {', '.join(f'{v:.0f}' for v in by['pytorch'])})")
print(f"ratio gnm/pytorch: {gnm / torch:.2f}x")
if sys.argv[2]:
    out = {"program": "bench_vs_torch", "threads": int(sys.argv[3]), "batch": int(sys.argv[4]),
           "device": sys.argv[5], "gnm_samples_per_s": by["gnm"], "pytorch_samples_per_s": by["pytorch"],
           "ratio": gnm / torch, "torch_version": rows[1].get("torch")}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=2)
PY
