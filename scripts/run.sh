#!/usr/bin/env bash
# Set up, build and run the flagship program (chapter 0's doctor + SAXPY for now).
# Extra arguments go to the program: scripts/run.sh --n 1000000 --device cpu
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$GNM_ROOT"

bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target ch00_hello_gpu -j "$GNM_JOBS"
exec ./build/chapters/ch00_hello_gpu/ch00_hello_gpu "$@"
