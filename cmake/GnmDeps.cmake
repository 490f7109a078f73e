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

find_package(CLI11 CONFIG REQUIRED)  # Debian: libcli11-dev; header-only
find_package(Threads REQUIRED)

if(GNM_BUILD_TESTS)
  find_package(GTest REQUIRED)       # Debian: libgtest-dev libgmock-dev
  include(GoogleTest)
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
                 "OpenBLAS ${GNM_HAVE_OPENBLAS}, benchmarks ${GNM_HAVE_BENCHMARK}, "
                 "learner mode ${GNM_LEARNER}, sanitizers '${GNM_SANITIZE}'")
endfunction()
