# Sourced by the other scripts: puts nvcc on PATH and picks the build directory.
# shellcheck shell=bash
GNM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
# The number of parallel jobs: all cores (CI machines have 2).
GNM_JOBS=${GNM_JOBS:-$(nproc)}
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$GNM_JOBS}
# ccache: hash paths relative to the checkout, so that a fresh clone elsewhere (CI) reuses the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$GNM_ROOT}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
