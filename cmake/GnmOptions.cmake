# Project-wide options, warnings, ccache and sanitizers. Set once here, never in chapters.
include_guard(GLOBAL)

option(GNM_ENABLE_CUDA "Build the CUDA parts when a CUDA compiler is found" ON)
option(GNM_BUILD_TESTS "Build the tests (GoogleTest)" ON)
option(GNM_BUILD_BENCHMARKS "Build the benchmarks (Google Benchmark) when it is found" ON)
option(GNM_LEARNER "Chapter programs use your exercises/ code instead of solutions/" OFF)
option(GNM_WERROR "Treat warnings as errors (scripts/test.sh turns this on)" OFF)
set(GNM_SANITIZE "" CACHE STRING "Sanitizers for the CPU build: address,undefined or thread")
set(GNM_CPU_ARCH "x86-64-v3" CACHE STRING
    "Value for -march on x86-64 (x86-64-v3 = AVX2+FMA; 'native' for this machine; '' for none)")

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

find_program(GNM_CCACHE ccache)
if(GNM_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${GNM_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${GNM_CCACHE}")
endif()

if(GNM_CPU_ARCH AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-march=${GNM_CPU_ARCH}>")
  add_compile_options("$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-march=${GNM_CPU_ARCH}>")
endif()

if(GNM_SANITIZE)
  if(GNM_SANITIZE MATCHES "thread" AND GNM_SANITIZE MATCHES "address")
    message(FATAL_ERROR "GNM_SANITIZE='${GNM_SANITIZE}': thread and address cannot be combined")
  endif()
  add_compile_options(-fsanitize=${GNM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${GNM_SANITIZE})
endif()

# gnm_set_warnings(<target>): the one warning set of the project, for C++ and CUDA sources.
function(gnm_set_warnings target)
  set(cxx -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wnull-dereference
          -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  # nvcc's host pass sees the same code through -Xcompiler; -Wpedantic is left out there because
  # nvcc's generated stubs use extensions it would flag.
  set(cuda -Xcompiler=-Wall,-Wextra,-Wshadow)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 at -O3 reports a false -Wrestrict inside libstdc++ for `"literal" + std::string`
    # (GCC bug 105329, fixed in 13); it is noise, not a finding in our code.
    list(APPEND cxx -Wno-restrict)
  endif()
  if(GNM_WERROR)
    list(APPEND cxx -Werror)
    list(APPEND cuda -Werror=all-warnings -Xcompiler=-Werror)
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${cxx}>"
                                           "$<$<COMPILE_LANGUAGE:CUDA>:${cuda}>")
endfunction()
