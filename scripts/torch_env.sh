#!/usr/bin/env bash
# Makes (once) the Python virtual environment with PyTorch, NumPy and safetensors from PyPI that
# the fixture scripts (scripts/fixtures/*.py) and the PyTorch comparisons use, and prints its python.
#
#   py=$(bash scripts/torch_env.sh) && "$py" scripts/fixtures/ch03_autodiff.py
#
# Not part of CI: the fixtures it makes are small JSON files committed under tests/fixtures/, so the
# tests never need PyTorch. The venv lives at $GNM_TORCH_VENV (default /opt/gnm-torch; about 5 GB,
# because PyPI's Linux torch wheel brings its CUDA libraries along).
set -euo pipefail
venv=${GNM_TORCH_VENV:-/opt/gnm-torch}
if ! "$venv/bin/python" -c "import torch, numpy, safetensors" >/dev/null 2>&1; then
  echo "torch_env.sh: creating $venv (PyPI: torch numpy safetensors)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch numpy safetensors >&2
fi
echo "$venv/bin/python"
