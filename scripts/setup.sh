#!/usr/bin/env bash
# Installs the Debian packages gpu-native-ml needs to build, test and render the book.
# Idempotent: installs only what is missing. As non-root it prints the exact command and exits 1.
# Everything comes from Debian, except two small NVIDIA binary tools from PyPI when the toolkit
# lacks them (below); the CUDA toolkit is expected at /usr/local/cuda (see README).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache python3 python3-venv git
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

# cuobjdump and nvdisasm (chapter 7.5 reads the SASS of its own kernels) are not in every toolkit
# install; PyPI has NVIDIA's binaries (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm, under 1 MB).
# They go into a small venv, $GNM_CUDA_TOOLS_VENV (default /opt/gnm-cuda-tools), with links in its
# bin/, where CMake looks. Without them (offline, no permission) the rest still builds and 7.5
# says that it could not read the SASS.
tools_venv=${GNM_CUDA_TOOLS_VENV:-/opt/gnm-cuda-tools}
cuda_bin=$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")
if [[ ! -x $cuda_bin/cuobjdump && ! -x $tools_venv/bin/cuobjdump ]]; then
  if { [[ -d $tools_venv ]] && [[ -w $tools_venv ]]; } || [[ -w $(dirname "$tools_venv") ]]; then
    echo "setup.sh: installing cuobjdump and nvdisasm from PyPI into $tools_venv"
    if python3 -m venv "$tools_venv" &&
       "$tools_venv/bin/pip" install -q nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm; then
      for tool in cuobjdump nvdisasm; do
        found=$(ls "$tools_venv"/lib/python3*/site-packages/nvidia/cu*/bin/"$tool" 2>/dev/null | head -n1)
        [[ -n $found ]] && ln -sf "$found" "$tools_venv/bin/$tool"
      done
    else
      echo "setup.sh: could not install cuobjdump from PyPI; chapter 7.5 will skip reading SASS" >&2
    fi
  else
    echo "setup.sh: no cuobjdump in $cuda_bin and $tools_venv is not writable; chapter 7.5 will" \
         "skip reading SASS (set GNM_CUDA_TOOLS_VENV to a writable path)" >&2
  fi
fi
