/* Section 4.4: the engine's C API called from C (compiled as C11, linked with libgnm_c.so).
 *
 * C has no destructors and no exceptions: every call returns a status, the message is fetched
 * with gnm_last_error(), and every handle is freed on every path (the `goto cleanup` idiom that
 * RAII makes unnecessary in C++). Run as the test ch04/capi_demo.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gnm/capi/gnm.h"

/* The C compiler's own check of the layout that the C++ side asserts too (gnm.h repeats both):
 * if the two compilers ever disagreed, one of the two builds would stop here. */
//! [c_static_assert]
_Static_assert(sizeof(gnm_shape) == 72, "gnm_shape is 72 bytes");
_Static_assert(offsetof(gnm_shape, ndim) == 64, "gnm_shape.ndim at byte 64");
_Static_assert(sizeof(gnm_tensor_info) == 152, "gnm_tensor_info is 152 bytes");
_Static_assert(offsetof(gnm_tensor_info, strides) == 88, "gnm_tensor_info.strides at byte 88");
//! [c_static_assert]

static int failures = 0;

static void expect(int condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "FAILED: %s (last error: '%s')\n", what, gnm_last_error());
    ++failures;
  }
}

int main(void) {
  gnm_tensor* a = NULL;
  gnm_tensor* b = NULL;
  gnm_tensor* c = NULL;
  /* A (2×3) · B (3×2) with small integers: every product and sum is exact in fp32. */
  const float ha[6] = {1, 2, 3, 4, 5, 6};
  const float hb[6] = {7, 8, 9, 10, 11, 12};
  const float expected[4] = {58, 64, 139, 154};
  float hc[4] = {0, 0, 0, 0};
  const gnm_shape sa = {{2, 3}, 2, 0}, sb = {{3, 2}, 2, 0}, sc = {{2, 2}, 2, 0};

  printf("%s (library C API %d, header %d)\n", gnm_version_string(), (int)gnm_api_version(),
         GNM_API_VERSION);
  expect(gnm_api_version() == GNM_API_VERSION, "header and library agree on the API version");

  //! [c_calls]
  if (gnm_tensor_create(&sa, &a) != GNM_OK || gnm_tensor_create(&sb, &b) != GNM_OK ||
      gnm_tensor_create(&sc, &c) != GNM_OK) {
    expect(0, "create the tensors");
    goto cleanup;
  }
  expect(gnm_tensor_write(a, ha, 6) == GNM_OK, "write A");
  expect(gnm_tensor_write(b, hb, 6) == GNM_OK, "write B");
  expect(gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0f, a, b, 0.0f, c) == GNM_OK, "C = A·B");
  expect(gnm_tensor_read(c, hc, 4) == GNM_OK, "read C");
  expect(memcmp(hc, expected, sizeof hc) == 0, "C = [[58, 64], [139, 154]]");
  //! [c_calls]
  printf("C = [[%g, %g], [%g, %g]]\n", hc[0], hc[1], hc[2], hc[3]);

  /* Errors come back as codes with a message, never as a crash. */
  expect(gnm_tensor_fill(NULL, 1.0f) == GNM_ERROR_INVALID_ARGUMENT, "null handle is rejected");
  printf("null handle:     %s: %s\n", gnm_status_name(GNM_ERROR_INVALID_ARGUMENT), gnm_last_error());
  expect(gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0f, a, a, 0.0f, c) == GNM_ERROR_SHAPE,
         "A·A (2×3 · 2×3) is a shape error");
  printf("shape mismatch:  %s: %s\n", gnm_status_name(GNM_ERROR_SHAPE), gnm_last_error());
  expect(strstr(gnm_last_error(), "inner dimensions") != NULL, "the message names the problem");
  expect(gnm_tensor_read(c, hc, 3) == GNM_ERROR_SHAPE, "reading 3 of 4 elements is refused");
  expect(gnm_tensor_fill(c, 0.0f) == GNM_OK && gnm_last_error()[0] == '\0',
         "a success clears the last error");

  //! [c_cleanup]
cleanup:
  gnm_tensor_free(a); /* NULL is fine, as with free() */
  gnm_tensor_free(b);
  gnm_tensor_free(c);
  //! [c_cleanup]
  if (failures == 0) printf("Verification: PASSED\n");
  return failures == 0 ? 0 : 1;
}
