# Third-party dependencies, all from Debian packages (scripts/setup.sh installs them).
include_guard(GLOBAL)

# OpenBLAS: the baseline our CPU GEMM is measured against, and the engine's BLAS dispatch.
# Optional so that a GPU machine without Debian's -dev packages can still build the GPU tests.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS QUIET)
find_path(GNM_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas-pthread openblas)
if(BLAS_FOUND AND GNM_CBLAS_INCLUDE_DIR)
  set(GNM_HAVE_OPENBLAS ON)
else()
  set(GNM_HAVE_OPENBLAS OFF)
  message(STATUS "gnm: OpenBLAS not found (Debian: libopenblas-dev); BLAS comparisons are off")
endif()

# LAPACKE (Debian: liblapacke-dev), for chapter 2.4's least-squares fit and linear solve.
# gnm_lapacke is an interface target defining GNM_HAVE_LAPACKE=1 when found, 0 otherwise.
find_path(GNM_LAPACKE_INCLUDE_DIR lapacke.h)
find_library(GNM_LAPACKE_LIBRARY lapacke)
add_library(gnm_lapacke INTERFACE)
if(GNM_LAPACKE_INCLUDE_DIR AND GNM_LAPACKE_LIBRARY AND GNM_HAVE_OPENBLAS)
  set(GNM_HAVE_LAPACKE ON)
  target_include_directories(gnm_lapacke INTERFACE "${GNM_LAPACKE_INCLUDE_DIR}")
  target_link_libraries(gnm_lapacke INTERFACE "${GNM_LAPACKE_LIBRARY}")
  target_compile_definitions(gnm_lapacke INTERFACE GNM_HAVE_LAPACKE=1)
else()
  set(GNM_HAVE_LAPACKE OFF)
  target_compile_definitions(gnm_lapacke INTERFACE GNM_HAVE_LAPACKE=0)
  message(STATUS "gnm: LAPACKE not found (Debian: liblapacke-dev); chapter 2.4's LAPACK part is off")
endif()

# zlib (Debian: zlib1g-dev) reads the gzipped IDX files of Fashion-MNIST (chapter 10). Optional so
# that a bare GPU machine still builds; without it only uncompressed IDX files can be read.
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  set(GNM_HAVE_ZLIB ON)
else()
  set(GNM_HAVE_ZLIB OFF)
  message(STATUS "gnm: zlib not found (Debian: zlib1g-dev); gzipped IDX files cannot be read")
endif()

# OpenCL (Debian: ocl-icd-opencl-dev opencl-headers to build; pocl-opencl-icd runs kernels on
# the CPU, a GPU driver's ICD on the GPU): chapter 7.3's portable backend, gnm::opencl. Optional:
# without it the backend's functions throw gnm::NotImplemented naming the packages.
find_package(OpenCL QUIET)
if(OpenCL_FOUND)
  set(GNM_HAVE_OPENCL ON)
else()
  set(GNM_HAVE_OPENCL OFF)
  message(STATUS "gnm: OpenCL not found (Debian: ocl-icd-opencl-dev opencl-headers); "
                 "gnm::opencl throws NotImplemented")
endif()

# Chapter 7.4's offline compilation of the OpenCL C kernels: clang (OpenCL C → SPIR, LLVM
# bitcode) and llvm-spirv (→ SPIR-V) of the same LLVM version, since llvm-spirv reads only its
# own version's bitcode (Debian bookworm: clang-14 llvm-spirv-14); spirv-val (spirv-tools)
# validates the result. Optional: without them the SPIR/SPIR-V forms are simply not embedded.
set(GNM_OPENCL_CLANG "")
set(GNM_OPENCL_LLVM_SPIRV "")
foreach(version 19 18 17 16 15 14)
  unset(gnm_clang)
  unset(gnm_llvm_spirv)
  find_program(gnm_clang clang-${version} NO_CACHE)
  find_program(gnm_llvm_spirv llvm-spirv-${version} NO_CACHE)
  if(gnm_clang AND gnm_llvm_spirv)
    set(GNM_OPENCL_CLANG "${gnm_clang}")
    set(GNM_OPENCL_LLVM_SPIRV "${gnm_llvm_spirv}")
    break()
  endif()
endforeach()
find_program(GNM_SPIRV_VAL spirv-val)
if(NOT GNM_OPENCL_CLANG)
  message(STATUS "gnm: no clang-N with a matching llvm-spirv-N (Debian: clang-14 llvm-spirv-14); "
                 "OpenCL kernels are not compiled offline to SPIR/SPIR-V")
endif()

# nlohmann-json (Debian: nlohmann-json3-dev; header-only): parses safetensors headers and the
# PyTorch fixtures of the tests.
find_package(nlohmann_json CONFIG REQUIRED)

find_package(CLI11 CONFIG REQUIRED)  # Debian: libcli11-dev; header-only
find_package(Threads REQUIRED)

if(GNM_BUILD_TESTS)
  find_package(GTest REQUIRED)       # Debian: libgtest-dev libgmock-dev
  include(GoogleTest)
  # RapidCheck (Debian: librapidcheck-dev): property-based tests of the tensor engine (chapter 9).
  find_package(rapidcheck CONFIG QUIET)
  set(GNM_HAVE_RAPIDCHECK ${rapidcheck_FOUND})
  if(NOT rapidcheck_FOUND)
    message(STATUS "gnm: RapidCheck not found (Debian: librapidcheck-dev); property tests are off")
  endif()
endif()

set(GNM_HAVE_BENCHMARK OFF)
if(GNM_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG QUIET)  # Debian: libbenchmark-dev
  if(benchmark_FOUND)
    set(GNM_HAVE_BENCHMARK ON)
  else()
    message(STATUS "gnm: Google Benchmark not found (Debian: libbenchmark-dev); no benchmarks")
  endif()
endif()

find_package(Python3 COMPONENTS Interpreter REQUIRED)  # scripts/make_exercises.py

function(gnm_print_summary)
  message(STATUS "gnm: CUDA ${GNM_HAVE_CUDA} (architectures: ${CMAKE_CUDA_ARCHITECTURES}), "
                 "OpenBLAS ${GNM_HAVE_OPENBLAS}, "
                 "OpenCL ${GNM_HAVE_OPENCL} (offline SPIR-V: '${GNM_OPENCL_LLVM_SPIRV}'), "
                 "zlib ${GNM_HAVE_ZLIB}, LAPACKE ${GNM_HAVE_LAPACKE}, benchmarks ${GNM_HAVE_BENCHMARK}, "
                 "learner mode ${GNM_LEARNER}, sanitizers '${GNM_SANITIZE}'")
endfunction()
