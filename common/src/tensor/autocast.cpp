// Autocast (chapter 10.4): the thread-local setting and the two casts the op lists apply. The
// hooks themselves sit at the top of linear/matmul/bmm (ops_linalg.cpp) and of the losses and
// softmaxes (ops_loss.cpp).
#include "gnm/tensor/autocast.hpp"

#include <string_view>

#include "gnm/core/check.hpp"

namespace gnm {

namespace {

// Thread-local like grad mode: a data-loader or inference thread must not see the training
// thread's setting (PyTorch's autocast state is thread-local too).
thread_local std::optional<DType> t_autocast_dtype;

}  // namespace

AutocastGuard::AutocastGuard(std::optional<DType> dtype) : previous_(t_autocast_dtype) {
  GNM_CHECK(!dtype || *dtype == DType::bf16 || *dtype == DType::f16,
            "AutocastGuard: the autocast dtype must be bf16 or f16",
            dtype ? dtype_name(*dtype) : std::string_view("none"));
  t_autocast_dtype = dtype;
}

AutocastGuard::~AutocastGuard() { t_autocast_dtype = previous_; }

std::optional<DType> autocast_dtype() noexcept { return t_autocast_dtype; }

Tensor autocast_to_lower(const Tensor& t) {
  if (!t_autocast_dtype || !t.defined() || t.dtype() != DType::f32) return t;
  return t.to(*t_autocast_dtype);
}

Tensor autocast_to_f32(const Tensor& t) {
  if (!t_autocast_dtype || !t.defined()) return t;
  if (t.dtype() != DType::f16 && t.dtype() != DType::bf16) return t;
  return t.to(DType::f32);
}

}  // namespace gnm
