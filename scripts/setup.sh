#!/usr/bin/env bash
# Installs the Debian packages gpu-native-ml needs to build, test and render the book.
# Idempotent: installs only what is missing. As non-root it prints the exact command and exits 1.
# Nothing comes from outside Debian; the CUDA toolkit is expected at /usr/local/cuda (see README).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache python3 git
  libopenblas-dev liblapacke-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  zlib1g-dev nlohmann-json3-dev libeigen3-dev librapidcheck-dev
  dataset-fashion-mnist
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo clang-14 llvm-spirv-14 spirv-tools
  doxygen graphviz doxygen-awesome-css libjs-mathjax
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "setup.sh: run this as root, then run the script again:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all ${#PACKAGES[@]} Debian packages are present"
fi

# The CUDA toolkit is not a Debian package here; without it the CPU parts still build.
if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  echo "setup.sh: CUDA toolkit: $("$nvcc_bin" --version | tail -n 1)"
else
  echo "setup.sh: no CUDA toolkit (nvcc) found: only the CPU parts will build." \
       "Install the CUDA toolkit to /usr/local/cuda to compile the GPU code." >&2
fi
