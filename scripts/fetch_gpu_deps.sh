#!/usr/bin/env bash
# Run on a Debian 12 machine (this project's build machine): downloads the Debian packages that
# the GPU build needs but a bare GPU machine lacks (GoogleTest, Google Benchmark, CLI11, the OpenCL
# ICD loader and headers for chapter 7.3 on NVIDIA's OpenCL) and
# unpacks them into .deps/root. Copy .deps/ along with the tree; scripts/gpu_check.sh uses it.
# Everything comes from Debian's archive; nothing is built.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$GNM_ROOT"

PACKAGES=(libgtest-dev libgmock-dev googletest libbenchmark-dev libbenchmark1debian libcli11-dev nlohmann-json3-dev
          ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers)
rm -rf .deps
mkdir -p .deps/debs .deps/root
(cd .deps/debs && apt-get download "${PACKAGES[@]}")
for deb in .deps/debs/*.deb; do
  dpkg-deb -x "$deb" .deps/root
done
rm -rf .deps/root/usr/src   # googletest's sources: not needed, the static libraries are there
echo "fetch_gpu_deps.sh: unpacked ${#PACKAGES[@]} packages into .deps/root ($(du -sh .deps | cut -f1))"
