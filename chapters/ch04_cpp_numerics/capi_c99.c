/* Section 4.4: proof that gnm/capi/gnm.h is valid C99. Compiled as an object with -std=c99
 * -pedantic-errors in every build and linked into nothing; C99 has no _Static_assert, so the
 * header's own layout checks are skipped here (capi_demo.c runs them as C11). */
#include "gnm/capi/gnm.h"

int gnm_ch04_c99_ndim(const gnm_shape* shape);
int gnm_ch04_c99_ndim(const gnm_shape* shape) { return (int)shape->ndim; }
