/// \file
/// The engine's C API: opaque tensor handles, status codes and a thread-local last-error message.
///
/// This header is plain C (C99 and later) and C++: a C program, Python's `ctypes`, Rust's
/// `extern "C"` blocks or any other FFI can call the engine through it (section 4.4). The rules
/// that make the boundary safe:
///
/// - **Opaque handles.** A `gnm_tensor*` is created by gnm_tensor_create() and freed by
///   gnm_tensor_free(); the caller never sees the C++ object behind it, so its layout may change
///   without breaking callers.
/// - **No exception crosses the boundary.** Every function catches everything the engine throws
///   and returns a #gnm_status instead; in C++ every function is `noexcept`, so a bug that let one
///   escape would stop the program at the boundary rather than unwind through C frames.
/// - **Status plus message.** A failed call returns a non-zero status; gnm_last_error() then
///   describes it ("check failed: ... [a.cols = 3, b.rows = 4]"), per thread, as errno does.
/// - **Fixed-width types only.** Statuses and flags are `int32_t`, not C enums, whose size is up to
///   the compiler; the shared structs have explicit padding, and their size and field offsets are
///   checked by `static_assert` in every C and C++ translation unit that includes this header.
///
/// \code
/// gnm_shape shape = {{2, 3}, 2, 0};
/// gnm_tensor* t = NULL;
/// if (gnm_tensor_create(&shape, &t) != GNM_OK) fprintf(stderr, "%s\n", gnm_last_error());
/// gnm_tensor_fill(t, 1.0f);
/// gnm_tensor_free(t);
/// \endcode
#ifndef GNM_CAPI_GNM_H
#define GNM_CAPI_GNM_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
/// Marks a function exported from the shared library libgnm_c.so (everything else stays hidden).
#define GNM_C_EXPORT __attribute__((visibility("default")))
#else
/// Marks a function exported from the shared library libgnm_c.so (everything else stays hidden).
#define GNM_C_EXPORT
#endif

#ifdef __cplusplus
/// `noexcept` in C++ (no exception leaves a C API function), nothing in C.
#define GNM_C_NOEXCEPT noexcept
extern "C" {
#else
/// `noexcept` in C++ (no exception leaves a C API function), nothing in C.
#define GNM_C_NOEXCEPT
#endif

/// Major version of the engine; equals PROJECT_VERSION_MAJOR (checked when the engine is built).
#define GNM_VERSION_MAJOR 0
/// Minor version of the engine.
#define GNM_VERSION_MINOR 1
/// Patch version of the engine.
#define GNM_VERSION_PATCH 0
/// Version of this C interface; gnm_api_version() returns the value the library was built with,
/// so a caller can detect a header/library mismatch at run time. Incremented on any ABI change.
#define GNM_API_VERSION 1

/// Largest number of dimensions of a tensor.
#define GNM_MAX_DIMS 8

/// Result of every fallible C API call: #GNM_OK or one of the error codes below.
typedef int32_t gnm_status;

/// The call succeeded (gnm_last_error() is then the empty string).
#define GNM_OK 0
/// A null pointer, a handle that is not live, an out-of-range flag or value (gnm::Error).
#define GNM_ERROR_INVALID_ARGUMENT 1
/// Shapes or sizes that do not fit together, or a shape that is invalid (gnm::ShapeError).
#define GNM_ERROR_SHAPE 2
/// The allocation failed (std::bad_alloc).
#define GNM_ERROR_OUT_OF_MEMORY 3
/// The feature is not available in this build or on this machine (gnm::NotImplemented).
#define GNM_ERROR_NOT_IMPLEMENTED 4
/// A file could not be read or written (gnm::IoError).
#define GNM_ERROR_IO 5
/// A CUDA call failed (gnm::CudaError).
#define GNM_ERROR_CUDA 6
/// Any other failure inside the engine: a bug; the message says what was thrown.
#define GNM_ERROR_INTERNAL 7

/// Flag of gnm_sgemm(): use the operand as stored.
#define GNM_NO_TRANSPOSE 0
/// Flag of gnm_sgemm(): use the transpose of the operand.
#define GNM_TRANSPOSE 1

/// An opaque handle to a dense, row-major fp32 tensor owned by the engine.
typedef struct gnm_tensor gnm_tensor;

/// A tensor shape: `ndim` sizes in `dims[0 .. ndim)`, outermost first (row-major).
///
/// Layout (checked below): 72 bytes, `dims` at offset 0, `ndim` at 64, `reserved` at 68. The
/// explicit `reserved` field makes the tail padding visible, so C, C++, ctypes and Rust's
/// `#[repr(C)]` all agree on it; set it to 0.
typedef struct gnm_shape {
  int64_t dims[GNM_MAX_DIMS];  ///< Sizes of the dimensions; entries from `ndim` on are ignored.
  int32_t ndim;                ///< Number of dimensions, 0 (a scalar) to #GNM_MAX_DIMS.
  int32_t reserved;            ///< Padding made explicit; must be 0.
} gnm_shape;

/// What gnm_tensor_describe() reports: a borrowed view of a tensor's elements.
///
/// `data` belongs to the tensor: it stays valid until gnm_tensor_free() on that tensor, and must
/// not be freed by the caller. Layout (checked below, for the 64-bit targets the project builds
/// for): 152 bytes, `data` at 0, `numel` at 8, `shape` at 16, `strides` at 88.
typedef struct gnm_tensor_info {
  float* data;                    ///< First element, 64-byte aligned (NULL when numel is 0).
  int64_t numel;                  ///< Number of elements: the product of the sizes.
  gnm_shape shape;                ///< The shape.
  int64_t strides[GNM_MAX_DIMS];  ///< Row-major strides in elements; entries from ndim on are 0.
} gnm_tensor_info;

/// The C interface version the library was built with (#GNM_API_VERSION of its header).
GNM_C_EXPORT int32_t gnm_api_version(void) GNM_C_NOEXCEPT;

/// The engine version as text, e.g. "gnm 0.1.0 (C API 1)"; a static string.
GNM_C_EXPORT const char* gnm_version_string(void) GNM_C_NOEXCEPT;

/// The name of a status, e.g. "GNM_ERROR_SHAPE"; "unknown status" for other values. Static.
GNM_C_EXPORT const char* gnm_status_name(gnm_status status) GNM_C_NOEXCEPT;

/// The message of the last call on this thread that returned a #gnm_status: empty after a
/// success, a description naming the values involved after a failure. Never NULL. The text stays
/// valid until the next such call on the same thread; copy it to keep it.
GNM_C_EXPORT const char* gnm_last_error(void) GNM_C_NOEXCEPT;

/// Creates a tensor of `shape`, every element 0, and stores its handle in `*out`.
///
/// Errors: INVALID_ARGUMENT for a null `shape` or `out`; SHAPE for ndim outside [0, 8], a
/// negative size, a non-zero `reserved` or a product of sizes that overflows; OUT_OF_MEMORY when
/// the allocation fails. `*out` is set to NULL on any failure.
GNM_C_EXPORT gnm_status gnm_tensor_create(const gnm_shape* shape, gnm_tensor** out) GNM_C_NOEXCEPT;

/// Frees a tensor; a NULL handle is a no-op that succeeds (as free(NULL)). A handle that is not
/// live (freed already) gives INVALID_ARGUMENT instead of a double free, as long as its address
/// has not been reused by a newer tensor: a check, not a guarantee.
GNM_C_EXPORT gnm_status gnm_tensor_free(gnm_tensor* tensor) GNM_C_NOEXCEPT;

/// Copies the shape of `tensor` into `*out`. INVALID_ARGUMENT for a null or dead handle or `out`.
GNM_C_EXPORT gnm_status gnm_tensor_shape(const gnm_tensor* tensor, gnm_shape* out) GNM_C_NOEXCEPT;

/// Fills `*out` with a borrowed view of the elements (see gnm_tensor_info). INVALID_ARGUMENT for
/// a null or dead handle or `out`.
GNM_C_EXPORT gnm_status gnm_tensor_describe(gnm_tensor* tensor,
                                            gnm_tensor_info* out) GNM_C_NOEXCEPT;

/// Sets every element to `value`.
GNM_C_EXPORT gnm_status gnm_tensor_fill(gnm_tensor* tensor, float value) GNM_C_NOEXCEPT;

/// Fills the tensor with uniform values in [lo, hi) from the engine's Philox stream `seed`
/// (the same numbers as gnm::fill_uniform). INVALID_ARGUMENT unless lo < hi, both finite.
GNM_C_EXPORT gnm_status gnm_tensor_fill_uniform(gnm_tensor* tensor, uint64_t seed, float lo,
                                                float hi) GNM_C_NOEXCEPT;

/// Copies `count` floats from `src` into the tensor (row-major). SHAPE unless `count` equals the
/// number of elements; INVALID_ARGUMENT for a null `src` with count > 0.
GNM_C_EXPORT gnm_status gnm_tensor_write(gnm_tensor* tensor, const float* src,
                                         int64_t count) GNM_C_NOEXCEPT;

/// Copies the tensor's elements into `dst`, which holds `count` floats. SHAPE unless `count`
/// equals the number of elements; INVALID_ARGUMENT for a null `dst` with count > 0.
GNM_C_EXPORT gnm_status gnm_tensor_read(const gnm_tensor* tensor, float* dst,
                                        int64_t count) GNM_C_NOEXCEPT;

/// C = alpha · op(A) · op(B) + beta · C on 2-D tensors, with the engine's gnm::cpu::sgemm.
///
/// op(X) is X (#GNM_NO_TRANSPOSE) or Xᵀ (#GNM_TRANSPOSE). op(A) is M×K, op(B) K×N and C M×N.
/// Errors: INVALID_ARGUMENT for a null or dead handle, a flag other than the two above, or C
/// being the same tensor as A or B; SHAPE, naming the sizes, when a tensor is not 2-D or the
/// sizes do not fit.
GNM_C_EXPORT gnm_status gnm_sgemm(int32_t trans_a, int32_t trans_b, float alpha,
                                  const gnm_tensor* a, const gnm_tensor* b, float beta,
                                  gnm_tensor* c) GNM_C_NOEXCEPT;

#ifdef __cplusplus
}  // extern "C"
#endif

// The layout every language must agree on, checked wherever this header is compiled: C++ (any
// version with static_assert) and C11 or later. A C99 compiler skips the checks; the engine's
// own build and the chapter's C11 demo always run them.
#if defined(__cplusplus)
static_assert(sizeof(gnm_shape) == 72 && offsetof(gnm_shape, dims) == 0 &&
                  offsetof(gnm_shape, ndim) == 64 && offsetof(gnm_shape, reserved) == 68,
              "gnm_shape layout differs from the documented C ABI");
static_assert(sizeof(gnm_tensor_info) == 152 && offsetof(gnm_tensor_info, data) == 0 &&
                  offsetof(gnm_tensor_info, numel) == 8 && offsetof(gnm_tensor_info, shape) == 16 &&
                  offsetof(gnm_tensor_info, strides) == 88,
              "gnm_tensor_info layout differs from the documented C ABI");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(gnm_shape) == 72 && offsetof(gnm_shape, dims) == 0 &&
                   offsetof(gnm_shape, ndim) == 64 && offsetof(gnm_shape, reserved) == 68,
               "gnm_shape layout differs from the documented C ABI");
_Static_assert(sizeof(gnm_tensor_info) == 152 && offsetof(gnm_tensor_info, data) == 0 &&
                   offsetof(gnm_tensor_info, numel) == 8 && offsetof(gnm_tensor_info, shape) == 16 &&
                   offsetof(gnm_tensor_info, strides) == 88,
               "gnm_tensor_info layout differs from the documented C ABI");
#endif

#endif  // GNM_CAPI_GNM_H
