/// \file
/// Which BLAS the engine is linked with, and how it is configured.
#pragma once

#include <string>

/// CPU kernels: vector and BLAS-like routines, and the BLAS dispatch.
namespace gnm::cpu {

/// The BLAS library behind the engine's BLAS dispatch.
struct BlasInfo {
  bool available = false;  ///< False when the engine was built without OpenBLAS.
  std::string name;        ///< "OpenBLAS", or the reason there is none.
  std::string config;      ///< openblas_get_config(): version, build options, threading.
  std::string core;        ///< openblas_get_corename(): the kernel set chosen for this CPU.
  int threads = 0;         ///< openblas_get_num_threads() (OPENBLAS_NUM_THREADS pins it).
};

/// Reports the linked BLAS (never throws).
BlasInfo blas_info();

}  // namespace gnm::cpu
