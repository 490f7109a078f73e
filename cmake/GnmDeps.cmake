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
                 "OpenBLAS ${GNM_HAVE_OPENBLAS}, zlib ${GNM_HAVE_ZLIB}, LAPACKE ${GNM_HAVE_LAPACKE}, benchmarks ${GNM_HAVE_BENCHMARK}, "
                 "learner mode ${GNM_LEARNER}, sanitizers '${GNM_SANITIZE}'")
endfunction()
