# CUDA detection. The build machine and CI have nvcc but no GPU and no driver: CUDA code is
# compiled everywhere and run only where a device exists. Nothing links libcuda (the driver API):
# the static CUDA runtime loads the driver at run time, so every binary starts without one.
include_guard(GLOBAL)
include(CheckLanguage)

set(GNM_HAVE_CUDA OFF)
if(GNM_ENABLE_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # 90 = Hopper (H100/H200): SASS for sm_90 plus PTX for later GPUs to JIT. Files that use wgmma
    # or TMA set 90a on themselves alone.
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    # CMake 3.25 predates nvcc 13 and does not know that it supports C++20 (and CUDA targets
    # inherit CXX_STANDARD 20), so tell it: nvcc 12+ accepts -std=c++20.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_COMPILE_FEATURES cuda_std_20)
      list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
    find_package(CUDAToolkit REQUIRED)
    set(GNM_HAVE_CUDA ON)
  else()
    message(STATUS "gnm: no CUDA compiler found; building the CPU parts only "
                   "(put nvcc on PATH or set CMAKE_CUDA_COMPILER to build the CUDA parts)")
  endif()
endif()
