/// \file
/// gnm::Tensor (chapter 9.1): a strided view of a shared Storage, with a dtype, a device and the
/// autograd fields (requires_grad, grad, grad_fn). A Tensor is a handle, like torch.Tensor:
/// copying it aliases the same TensorImpl; views share the Storage with a different
/// shape/strides/offset.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/dtype.hpp"
#include "gnm/tensor/device.hpp"
#include "gnm/tensor/shape.hpp"
#include "gnm/tensor/storage.hpp"

namespace gnm {

namespace autograd {
class Node;
}  // namespace autograd

/// The options of a new tensor: `gnm::zeros({2, 3}, {.dtype = DType::f64, .requires_grad = true})`.
struct TensorOptions {
  DType dtype = DType::f32;        ///< Element type.
  Device device = Device::cpu();   ///< Where the storage lives.
  bool requires_grad = false;      ///< Make it an autograd leaf (floating dtypes only).
};

/// The shared state behind Tensor handles. Users go through Tensor; ops and the autograd engine
/// read the fields directly.
struct TensorImpl {
  std::shared_ptr<Storage> storage;  ///< The bytes (shared by views).
  Shape shape;                       ///< Sizes, outermost first.
  Shape strides;                     ///< Strides in elements (0 for broadcast dimensions).
  std::int64_t offset = 0;           ///< First element's index into the storage, in elements.
  DType dtype = DType::f32;          ///< Element type.
  bool requires_grad = false;        ///< Leaf that wants .grad, or result of a recorded op.
  std::shared_ptr<autograd::Node> grad_fn;   ///< The Node that made this tensor (non-leaf).
  int output_nr = 0;                         ///< Which output of grad_fn this is.
  std::shared_ptr<TensorImpl> grad;          ///< Accumulated gradient (leaves only).
  std::weak_ptr<autograd::Node> grad_accumulator;  ///< The leaf's AccumulateGrad node, if any.
};

/// A strided, typed, device-tagged view of a Storage with autograd metadata.
///
/// Defaults to "undefined" (no impl), like an empty torch::Tensor in libtorch; every method but
/// defined() throws gnm::Error on an undefined tensor.
class Tensor {
 public:
  /// An undefined tensor.
  Tensor() = default;
  /// Wraps an existing impl (used by ops and the autograd engine).
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  /// A tensor with impl (false for the default-constructed one).
  bool defined() const noexcept { return impl_ != nullptr; }
  /// The impl (checked).
  TensorImpl& impl() const;
  /// The shared impl pointer (may be null).
  const std::shared_ptr<TensorImpl>& impl_ptr() const noexcept { return impl_; }
  /// True when both handles share one impl.
  bool is_same(const Tensor& other) const noexcept { return impl_ == other.impl_; }

  /// \name Metadata
  ///@{
  const Shape& shape() const { return impl().shape; }      ///< Sizes.
  const Shape& strides() const { return impl().strides; }  ///< Strides in elements.
  std::int64_t dim() const { return static_cast<std::int64_t>(impl().shape.size()); }  ///< Rank.
  std::int64_t size(std::int64_t d) const;    ///< Size of dimension d (negative counts from the end).
  std::int64_t stride(std::int64_t d) const;  ///< Stride of dimension d.
  std::int64_t offset() const { return impl().offset; }  ///< Storage offset in elements.
  std::int64_t numel() const;                            ///< Number of elements.
  DType dtype() const { return impl().dtype; }           ///< Element type.
  std::size_t element_size() const { return dtype_size(dtype()); }  ///< Bytes per element.
  Device device() const;                                  ///< Where the storage lives.
  bool is_cuda() const { return device().is_cuda(); }     ///< On a CUDA device.
  bool is_contiguous() const;  ///< Row-major with no gaps (size-1 dims may have any stride).
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }  ///< The bytes.
  ///@}

  /// \name Data access
  ///@{

  /// Address of element [0, 0, …] (a device pointer for CUDA tensors); null when empty.
  void* data_ptr() const;
  /// Typed pointer to element [0, …]; gnm::Error unless the dtype stores a `T`.
  template <class T>
  T* data() const {
    check_element_type(sizeof(T), dtype_of_or_byte<T>());
    return static_cast<T*>(data_ptr());
  }
  /// The value of a one-element tensor as a double (copied from the device if needed).
  double item() const;
  /// The elements in row-major order, converted to `T` (copied to the host if needed).
  template <class T>
  std::vector<T> to_vector() const;
  ///@}

  /// \name Conversions and copies
  ///@{
  Tensor to(Device device) const;      ///< A copy on `device` (itself when already there).
  Tensor to(DType dtype) const;        ///< A converted copy (itself when already that dtype).
  Tensor cpu() const { return to(Device::cpu()); }  ///< to(Device::cpu()).
  Tensor contiguous() const;           ///< Itself when contiguous, else a row-major copy.
  Tensor clone() const;                ///< A row-major copy with its own storage (differentiable).
  Tensor detach() const;               ///< Shares storage, no autograd history.
  Tensor& copy_(const Tensor& src);    ///< Copies `src` (broadcast, converted) into this, in place.
  Tensor& fill_(double value);         ///< Sets every element, in place.
  Tensor& zero_();                     ///< fill_(0).
  ///@}

  /// \name Views (share storage; chapter 9.6)
  ///@{
  Tensor view(Shape shape) const;             ///< Same elements, new shape; -1 infers one size.
  Tensor reshape(Shape shape) const;          ///< view() when possible, else a copy.
  Tensor transpose(std::int64_t d0, std::int64_t d1) const;  ///< Swaps two dimensions.
  Tensor t() const;                            ///< transpose(0, 1) of a 2-d tensor.
  Tensor permute(Shape dims) const;            ///< Reorders dimensions.
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end,
               std::int64_t step = 1) const;   ///< Python's x[..., start:end:step, ...].
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;  ///< slice.
  Tensor select(std::int64_t dim, std::int64_t index) const;  ///< x[..., index, ...]; drops dim.
  Tensor expand(Shape shape) const;            ///< Broadcasts size-1 dims (stride 0); -1 keeps.
  Tensor squeeze() const;                      ///< Drops every size-1 dimension.
  Tensor squeeze(std::int64_t dim) const;      ///< Drops `dim` if its size is 1.
  Tensor unsqueeze(std::int64_t dim) const;    ///< Inserts a size-1 dimension at `dim`.
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;  ///< Merges dims.
  ///@}

  /// \name Autograd (chapter 9.5)
  ///@{
  bool requires_grad() const { return impl().requires_grad; }  ///< Tracked by autograd.
  /// Marks a leaf as wanting .grad (floating dtypes only; gnm::Error on a non-leaf).
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }  ///< Made by the user, not an op.
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }  ///< Creator.
  Tensor grad() const;         ///< The accumulated gradient (undefined before any backward).
  void set_grad(const Tensor& g);  ///< Replaces .grad (shape and dtype must match).
  /// Backpropagates from this tensor. Without `gradient` it must hold one element (the loss);
  /// with one, `gradient` has this tensor's shape. The graph's saved tensors are freed unless
  /// `retain_graph`, and a second backward through them is a gnm::Error.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  ///@}

  /// PyTorch-like text: `tensor([[1.0000, 2.0000]], requires_grad=True)`.
  std::string str() const;

 private:
  void check_element_type(std::size_t size, DType want) const;
  template <class T>
  static constexpr DType dtype_of_or_byte() {
    if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, const std::uint8_t>)
      return DType::u8;
    else
      return dtype_of<std::remove_const_t<T>>();
  }
  std::shared_ptr<TensorImpl> impl_;
};

/// Prints Tensor::str().
std::ostream& operator<<(std::ostream& os, const Tensor& t);

/// \name Factories
///@{
Tensor empty(Shape shape, TensorOptions options = {});  ///< Uninitialised (poisoned with NaN in debug).
Tensor zeros(Shape shape, TensorOptions options = {});  ///< All 0.
Tensor ones(Shape shape, TensorOptions options = {});   ///< All 1.
Tensor full(Shape shape, double value, TensorOptions options = {});  ///< All `value`.
Tensor scalar_tensor(double value, TensorOptions options = {});      ///< A 0-d tensor.
/// 0, 1, …, n−1 (default dtype i64 when options.dtype is left f32 and `integer` is true).
Tensor arange(std::int64_t n, TensorOptions options = {.dtype = DType::i64});
/// A tensor of `shape` holding `values` (row-major; count must equal the shape's numel), converted
/// to options.dtype and copied to options.device.
Tensor from_vector(std::span<const double> values, Shape shape, TensorOptions options = {});
/// from_vector for float input (dtype f32 unless options say otherwise).
Tensor from_vector(std::span<const float> values, Shape shape, TensorOptions options = {});
/// from_vector for 64-bit integers (labels, indices): dtype is options.dtype, i64 by default here.
Tensor from_vector(std::span<const std::int64_t> values, Shape shape,
                   TensorOptions options = {.dtype = DType::i64});
/// Uniform in [lo, hi), drawn from the default generator (gnm::manual_seed).
Tensor rand(Shape shape, TensorOptions options = {}, double lo = 0.0, double hi = 1.0);
/// Normal(mean, std), drawn from the default generator.
Tensor randn(Shape shape, TensorOptions options = {}, double mean = 0.0, double stddev = 1.0);
Tensor zeros_like(const Tensor& t);  ///< zeros of t's shape, dtype and device.
Tensor ones_like(const Tensor& t);   ///< ones of t's shape, dtype and device.
Tensor empty_like(const Tensor& t);  ///< empty of t's shape, dtype and device.
///@}

/// \name Random generator (Philox; chapter 9.3 dropout and init use it)
///@{

/// The state of the default generator: each random op draws from Philox stream
/// (seed, subsequence) and then advances `subsequence`, so CPU and GPU draw the same numbers.
struct GeneratorState {
  std::uint64_t seed = 0;         ///< Philox key.
  std::uint64_t subsequence = 0;  ///< Next stream to use.
};
void manual_seed(std::uint64_t seed);  ///< Resets the default generator to (seed, 0).
GeneratorState generator_state();      ///< Reads the default generator (for checkpoints).
void set_generator_state(GeneratorState s);  ///< Restores it.
/// Takes the next stream of the default generator (thread-safe).
GeneratorState next_random_stream();
///@}

/// True when `a` and `b` have the same shape and every element agrees within
/// |a − b| ≤ atol + rtol·|b| (NaNs in the same places count as equal when `equal_nan`).
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);

}  // namespace gnm
