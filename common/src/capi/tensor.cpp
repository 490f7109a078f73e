// The C API's tensors: opaque handles over gnm::Tensor, a registry of live handles, fills,
// copies and sgemm. Every entry point is a one-line guarded() call (Note [C API guard]).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <unordered_set>

#include "capi_internal.hpp"
#include "gnm/capi/gnm.h"
#include "gnm/core/check.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cpu/gemm.hpp"
#include "gnm/tensor/tensor.hpp"

// The object behind the opaque handle. C callers never see this definition, so it may change
// without breaking them (only gnm.h is the ABI).
struct gnm_tensor {
  gnm::Tensor tensor;  // f32, contiguous, on the CPU: the engine's own tensor type
  gnm_shape shape{};
  std::int64_t numel = 0;

  float* data() const { return tensor.data<float>(); }
  std::span<float> span() const { return {data(), static_cast<std::size_t>(numel)}; }
};

namespace gnm::capi {
namespace {

// Note [Live handles]: a foreign caller may pass a pointer that was freed already (a Python
// object finalised twice) or was never a tensor. Dereferencing it would be undefined behaviour,
// so every call first looks the pointer up in the set of live handles: one hash lookup under a
// mutex, tens of nanoseconds against microseconds for any real operation. A freed address that a
// newer tensor happens to reuse passes the check: it catches mistakes, it is not a security
// boundary. The set is never destroyed, so a handle freed during program exit still finds it.
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_set<const gnm_tensor*>& registry() {
  static auto* live = new std::unordered_set<const gnm_tensor*>();
  return *live;
}

// "(2, 3)"; called only on a failure path (GNM_CHECK evaluates its values only when it throws).
std::string dims(const gnm_shape& s) {
  std::ostringstream out;
  out << '(';
  const int n = std::clamp(s.ndim, 0, GNM_MAX_DIMS);
  for (int i = 0; i < n; ++i) out << (i ? ", " : "") << s.dims[i];
  out << ')';
  return out.str();
}

// A handle the caller passed for argument `name`: non-null and live, or gnm::Error.
gnm_tensor& live(const gnm_tensor* t, const char* name) {
  GNM_CHECK(t != nullptr, std::string("tensor handle '") + name + "' is null");
  std::lock_guard lock(registry_mutex());
  const bool live = registry().count(t) == 1;
  GNM_CHECK(live, std::string("tensor handle '") + name +
                      "' is not a live gnm_tensor (freed already, or not made by gnm_tensor_create)");
  return *const_cast<gnm_tensor*>(t);  // the handle is ours: it was created non-const
}

// The number of elements of a valid shape; gnm::ShapeError naming the shape otherwise.
std::int64_t checked_numel(const gnm_shape& s) {
  GNM_CHECK_SHAPE(s.ndim >= 0 && s.ndim <= GNM_MAX_DIMS, "ndim must be in [0, GNM_MAX_DIMS]",
                  s.ndim);
  GNM_CHECK_SHAPE(s.reserved == 0, "gnm_shape.reserved must be 0", s.reserved);
  // Bytes must fit in ptrdiff_t, so pointer differences inside the tensor stay defined.
  constexpr std::int64_t kMaxNumel =
      std::numeric_limits<std::ptrdiff_t>::max() / static_cast<std::int64_t>(sizeof(float));
  std::int64_t numel = 1;
  bool overflow = false;
  for (int i = 0; i < s.ndim; ++i) {
    const std::int64_t d = s.dims[i];
    GNM_CHECK_SHAPE(d >= 0, "a tensor size cannot be negative", dims(s), i, d);
    if (d != 0 && numel > kMaxNumel / d) overflow = true;  // keep going: a 0 later rescues it
    numel = overflow ? numel : numel * d;
  }
  const bool empty = std::any_of(s.dims, s.dims + s.ndim, [](std::int64_t d) { return d == 0; });
  GNM_CHECK_SHAPE(!overflow || empty, "the number of elements overflows the address space",
                  dims(s));
  return empty ? 0 : numel;
}

void check_count(const gnm_tensor& t, const void* ptr, std::int64_t count, const char* what) {
  GNM_CHECK_SHAPE(count == t.numel, std::string(what) + ": count must equal the tensor's elements",
                  count, dims(t.shape));
  GNM_CHECK(ptr != nullptr || count == 0, std::string(what) + ": the buffer pointer is null",
            count);
}

std::int64_t row_major_stride(const gnm_shape& s, int dim) {
  std::int64_t stride = 1;
  for (int i = dim + 1; i < s.ndim; ++i) stride *= s.dims[i];
  return stride;
}

}  // namespace
}  // namespace gnm::capi

using gnm::capi::guarded;

extern "C" {

//! [capi_create]
gnm_status gnm_tensor_create(const gnm_shape* shape, gnm_tensor** out) noexcept {
  if (out != nullptr) *out = nullptr;
  return guarded([&] {
    GNM_CHECK(out != nullptr, "the output pointer 'out' is null");
    GNM_CHECK(shape != nullptr, "the shape pointer is null");
    const std::int64_t numel = gnm::capi::checked_numel(*shape);
    auto t = std::make_unique<gnm_tensor>();
    t->tensor = gnm::zeros(gnm::Shape(shape->dims, shape->dims + shape->ndim));
    t->shape = *shape;
    t->numel = numel;
    {
      std::lock_guard lock(gnm::capi::registry_mutex());
      gnm::capi::registry().insert(t.get());  // may throw bad_alloc: t is still freed then
    }
    *out = t.release();
  });
}
//! [capi_create]

gnm_status gnm_tensor_free(gnm_tensor* tensor) noexcept {
  return guarded([&] {
    if (tensor == nullptr) return;
    {
      std::lock_guard lock(gnm::capi::registry_mutex());
      const bool was_live = gnm::capi::registry().erase(tensor) == 1;
      GNM_CHECK(was_live, "gnm_tensor_free: the handle is not a live tensor (freed twice?)");
    }
    delete tensor;
  });
}

gnm_status gnm_tensor_shape(const gnm_tensor* tensor, gnm_shape* out) noexcept {
  return guarded([&] {
    const gnm_tensor& t = gnm::capi::live(tensor, "tensor");
    GNM_CHECK(out != nullptr, "the output pointer 'out' is null");
    *out = t.shape;
  });
}

gnm_status gnm_tensor_describe(gnm_tensor* tensor, gnm_tensor_info* out) noexcept {
  return guarded([&] {
    gnm_tensor& t = gnm::capi::live(tensor, "tensor");
    GNM_CHECK(out != nullptr, "the output pointer 'out' is null");
    gnm_tensor_info info{};
    info.data = t.data();
    info.numel = t.numel;
    info.shape = t.shape;
    for (int i = 0; i < t.shape.ndim; ++i) info.strides[i] = gnm::capi::row_major_stride(t.shape, i);
    *out = info;
  });
}

gnm_status gnm_tensor_fill(gnm_tensor* tensor, float value) noexcept {
  return guarded([&] {
    gnm_tensor& t = gnm::capi::live(tensor, "tensor");
    std::fill(t.span().begin(), t.span().end(), value);
  });
}

gnm_status gnm_tensor_fill_uniform(gnm_tensor* tensor, uint64_t seed, float lo, float hi) noexcept {
  return guarded([&] {
    gnm_tensor& t = gnm::capi::live(tensor, "tensor");
    gnm::fill_uniform(t.span(), seed, lo, hi);  // gnm::Error naming lo, hi when invalid
  });
}

gnm_status gnm_tensor_write(gnm_tensor* tensor, const float* src, int64_t count) noexcept {
  return guarded([&] {
    gnm_tensor& t = gnm::capi::live(tensor, "tensor");
    gnm::capi::check_count(t, src, count, "gnm_tensor_write");
    std::copy_n(src, count, t.data());
  });
}

gnm_status gnm_tensor_read(const gnm_tensor* tensor, float* dst, int64_t count) noexcept {
  return guarded([&] {
    const gnm_tensor& t = gnm::capi::live(tensor, "tensor");
    gnm::capi::check_count(t, dst, count, "gnm_tensor_read");
    std::copy_n(t.data(), count, dst);
  });
}

gnm_status gnm_sgemm(int32_t trans_a, int32_t trans_b, float alpha, const gnm_tensor* a,
                     const gnm_tensor* b, float beta, gnm_tensor* c) noexcept {
  return guarded([&] {
    GNM_CHECK(trans_a == GNM_NO_TRANSPOSE || trans_a == GNM_TRANSPOSE,
              "trans_a must be GNM_NO_TRANSPOSE (0) or GNM_TRANSPOSE (1)", trans_a);
    GNM_CHECK(trans_b == GNM_NO_TRANSPOSE || trans_b == GNM_TRANSPOSE,
              "trans_b must be GNM_NO_TRANSPOSE (0) or GNM_TRANSPOSE (1)", trans_b);
    const gnm_tensor& A = gnm::capi::live(a, "a");
    const gnm_tensor& B = gnm::capi::live(b, "b");
    gnm_tensor& C = gnm::capi::live(c, "c");
    GNM_CHECK(c != a && c != b, "c must not be the same tensor as a or b (it would be "
                                "overwritten while it is read)");
    using gnm::capi::dims;
    GNM_CHECK_SHAPE(A.shape.ndim == 2 && B.shape.ndim == 2 && C.shape.ndim == 2,
                    "gnm_sgemm needs 2-D tensors", dims(A.shape), dims(B.shape), dims(C.shape));
    const bool ta = trans_a == GNM_TRANSPOSE, tb = trans_b == GNM_TRANSPOSE;
    const std::int64_t M = A.shape.dims[ta ? 1 : 0], K = A.shape.dims[ta ? 0 : 1];
    const std::int64_t Kb = B.shape.dims[tb ? 1 : 0], N = B.shape.dims[tb ? 0 : 1];
    GNM_CHECK_SHAPE(K == Kb, "the inner dimensions of op(a) and op(b) differ", dims(A.shape),
                    dims(B.shape), trans_a, trans_b);
    GNM_CHECK_SHAPE(C.shape.dims[0] == M && C.shape.dims[1] == N,
                    "c must be M x N = rows of op(a) x columns of op(b)", dims(C.shape), M,
                    N);
    using gnm::cpu::Transpose;
    const auto ld = [](const gnm_tensor& t) { return std::max<std::int64_t>(t.shape.dims[1], 1); };
    gnm::cpu::sgemm(ta ? Transpose::Yes : Transpose::No, tb ? Transpose::Yes : Transpose::No, M,
                    N, K, alpha, A.data(), ld(A), B.data(), ld(B), beta, C.data(),
                    ld(C));
  });
}

}  // extern "C"
