#!/usr/bin/env bash
# Set up, build and run the flagship job: chapter 10's training of the MLP 784-256-128-10 on
# Fashion-MNIST (Debian's dataset-fashion-mnist): 10 epochs, about a minute on 2 cores. It ends
# with the test accuracy and where the training curve, the checkpoint and the model went.
# Extra arguments go to the program: scripts/run.sh --epochs 20 --run-dir runs/long
#                                    scripts/run.sh --resume runs/ch10/checkpoint.safetensors --epochs 15
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$GNM_ROOT"

bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target ch10_training -j "$GNM_JOBS"
exec ./build/chapters/ch10_training/ch10_training --section 10.1 "$@"
