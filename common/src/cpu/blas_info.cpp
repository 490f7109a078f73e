#include "gnm/cpu/blas.hpp"

#if GNM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace gnm::cpu {

BlasInfo blas_info() {
  BlasInfo info;
#if GNM_HAVE_OPENBLAS
  info.available = true;
  info.name = "OpenBLAS";
  info.config = openblas_get_config();
  info.core = openblas_get_corename();
  info.threads = openblas_get_num_threads();
#else
  info.name = "none: built without OpenBLAS (install libopenblas-dev with scripts/setup.sh)";
#endif
  return info;
}

}  // namespace gnm::cpu
