// gnm::Tensor: metadata, data access, conversions, factories and the default generator.
#include "gnm/tensor/tensor.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <sstream>

#include "gnm/autograd/node.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/tensor/ops.hpp"
#include "kernels.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/check.hpp"
#endif

namespace gnm {

namespace {

std::shared_ptr<TensorImpl> make_impl(std::shared_ptr<Storage> storage, Shape shape, Shape strides,
                                      std::int64_t offset, DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype;
  return impl;
}

// A contiguous tensor of `shape` on `device` with fresh storage.
Tensor new_tensor(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "new tensor");
  const std::int64_t n = shape_numel(shape);
  auto storage = make_storage(static_cast<std::size_t>(n) * dtype_size(dtype), device);
  return Tensor(make_impl(std::move(storage), shape, contiguous_strides(shape), 0, dtype));
}

// Copies contiguous bytes between devices (either may be the CPU).
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, std::size_t n) {
  if (n == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, n);
    return;
  }
#if GNM_HAVE_CUDA
  const cudaMemcpyKind kind = dst_dev.is_cpu()   ? cudaMemcpyDeviceToHost
                              : src_dev.is_cpu() ? cudaMemcpyHostToDevice
                                                 : cudaMemcpyDeviceToDevice;
  GNM_CUDA_CHECK(cudaMemcpy(dst, src, n, kind));
#else
  GNM_CHECK(false, "this build of gnm has no CUDA support", dst_dev.str(), src_dev.str());
#endif
}

class ToCopyBackward final : public autograd::Node {
 public:
  DType src_dtype = DType::f32;
  Device src_device;
  std::string name() const override { return "ToCopyBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {g[0].to(src_device).to(src_dtype)};
  }
};

class CloneBackward final : public autograd::Node {
 public:
  std::string name() const override { return "CloneBackward0"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& g) override {
    check_not_released();
    return {g[0]};
  }
};

// Copy (any layouts, dtypes, devices) without autograd.
void raw_copy(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  if (dst.device() == src.device()) {
#if GNM_HAVE_CUDA
    if (dst.is_cuda()) {
      GNM_CUDA_CHECK(cudaSetDevice(dst.device().index));
      kernels::copy_cuda(dst, src);
      return;
    }
#endif
    kernels::copy_cpu(dst, src);
    return;
  }
  // Across devices: convert and compact on the source device, move bytes, scatter on the target.
  Tensor staged = new_tensor(dst.shape(), dst.dtype(), src.device());
  raw_copy(staged, src);
  Tensor landed = new_tensor(dst.shape(), dst.dtype(), dst.device());
  copy_bytes(landed.data_ptr(), dst.device(), staged.data_ptr(), src.device(),
             static_cast<std::size_t>(staged.numel()) * staged.element_size());
  raw_copy(dst, landed);
}

// True when t's elements fill [offset, offset + numel) of its storage once each: a permuted
// row-major layout such as a transposed matrix (PyTorch's is_non_overlapping_and_dense). Finds,
// innermost first, the dim whose stride continues the layout; sizes > 1 make each stride distinct.
bool is_dense(const Tensor& t) {
  std::int64_t expected = 1;
  for (const std::int64_t size : t.shape()) {
    if (size == 1) continue;
    std::size_t d = 0;
    while (d < t.shape().size() && (t.shape()[d] == 1 || t.strides()[d] != expected)) ++d;
    if (d == t.shape().size()) return false;
    expected *= t.shape()[d];
  }
  return true;
}

std::mutex& generator_mutex() {
  static std::mutex m;
  return m;
}
GeneratorState& generator() {
  static GeneratorState state{};
  return state;
}

}  // namespace

TensorImpl& Tensor::impl() const {
  GNM_CHECK(impl_ != nullptr, "use of an undefined tensor");
  return *impl_;
}

std::int64_t Tensor::size(std::int64_t d) const { return shape()[static_cast<std::size_t>(wrap_dim(d, dim()))]; }
std::int64_t Tensor::stride(std::int64_t d) const { return strides()[static_cast<std::size_t>(wrap_dim(d, dim()))]; }
std::int64_t Tensor::numel() const { return shape_numel(shape()); }
Device Tensor::device() const { return impl().storage->device(); }

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element to address: any strides will do (as PyTorch)
  std::int64_t expected = 1;
  const Shape& s = shape();
  const Shape& st = strides();
  for (std::size_t i = s.size(); i-- > 0;) {
    if (s[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  auto* base = static_cast<std::byte*>(impl().storage->data());
  if (base == nullptr) return nullptr;
  return base + offset() * static_cast<std::int64_t>(element_size());
}

void Tensor::check_element_type(std::size_t size, DType want) const {
  const DType have = dtype();
  const bool byte_ok = size == 1 && (have == DType::u8 || have == DType::boolean);
  GNM_CHECK(have == want || byte_ok, "typed data access does not match the tensor's dtype",
            dtype_name(have), dtype_name(want));
  GNM_CHECK(device().is_cpu(), "typed data access needs a CPU tensor", device().str());
}

double Tensor::item() const {
  GNM_CHECK(numel() == 1, "item() needs a tensor with one element", shape_str(shape()));
  return to_vector<double>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor c = detach().to(Device::cpu()).to(dtype_of<T>()).contiguous();
  std::vector<T> out(static_cast<std::size_t>(c.numel()));
  if (!out.empty()) std::memcpy(out.data(), c.data_ptr(), out.size() * sizeof(T));
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int32_t> Tensor::to_vector<std::int32_t>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;
template std::vector<std::uint8_t> Tensor::to_vector<std::uint8_t>() const;

Tensor Tensor::to(Device target) const {
  if (device() == target) return *this;
  Tensor out = new_tensor(shape(), dtype(), target);
  raw_copy(out, *this);
  if (autograd::any_requires_grad({this})) {
    auto node = std::make_shared<ToCopyBackward>();
    node->src_dtype = dtype();
    node->src_device = device();
    autograd::set_history(node, {this}, {&out});
  }
  return out;
}

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  Tensor out;
  if (!is_contiguous() && is_dense(*this)) {
    // PyTorch's preserve_format: a dense view (wᵀ under autocast) keeps its strides and converts
    // in storage order, one contiguous pass instead of a strided walk; GEMMs take it as it is.
    const std::int64_t n = numel();
    auto storage = make_storage(static_cast<std::size_t>(n) * dtype_size(target), device());
    out = Tensor(make_impl(storage, shape(), strides(), 0, target));
    raw_copy(Tensor(make_impl(storage, {n}, {1}, 0, target)),
             Tensor(make_impl(impl().storage, {n}, {1}, offset(), dtype())));
  } else {
    out = new_tensor(shape(), target, device());
    raw_copy(out, *this);
  }
  if (autograd::any_requires_grad({this}) && is_floating(target)) {
    auto node = std::make_shared<ToCopyBackward>();
    node->src_dtype = dtype();
    node->src_device = device();
    autograd::set_history(node, {this}, {&out});
  }
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = new_tensor(shape(), dtype(), device());
  raw_copy(out, *this);
  if (autograd::any_requires_grad({this})) {
    autograd::set_history(std::make_shared<CloneBackward>(), {this}, {&out});
  }
  return out;
}

Tensor Tensor::detach() const {
  const TensorImpl& i = impl();
  return Tensor(make_impl(i.storage, i.shape, i.strides, i.offset, i.dtype));
}

// In-place ops are not recorded: they are for buffers, optimizer steps (under no_grad) and
// initialisation. Writing into a tensor that autograd tracks would silently corrupt the graph.
static void check_in_place_allowed(const Tensor& t, const char* op) {
  GNM_CHECK(!(autograd::grad_mode_enabled() && t.requires_grad()),
            "in-place op on a tensor that requires grad; wrap it in autograd::NoGradGuard", op);
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_in_place_allowed(*this, "copy_");
  const Shape b = broadcast_shapes(src.shape(), shape());
  GNM_CHECK_SHAPE(b == shape(), "copy_ source does not broadcast to the destination",
                  shape_str(src.shape()), shape_str(shape()));
  raw_copy(*this, src.expand(shape()).detach());
  return *this;
}

Tensor& Tensor::fill_(double value) {
  check_in_place_allowed(*this, "fill_");
  if (numel() == 0) return *this;
#if GNM_HAVE_CUDA
  if (is_cuda()) {
    GNM_CUDA_CHECK(cudaSetDevice(device().index));
    kernels::fill_cuda(*this, value);
    return *this;
  }
#endif
  kernels::fill_cpu(*this, value);
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0.0); }

Tensor& Tensor::requires_grad_(bool on) {
  GNM_CHECK(is_leaf() || on, "requires_grad_(false) on a non-leaf tensor; use detach()");
  GNM_CHECK(!on || is_floating(dtype()), "only floating tensors can require gradients",
            dtype_name(dtype()));
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& g = impl().grad;
  return g ? Tensor(g) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  if (!g.defined()) {
    impl().grad.reset();
    return;
  }
  GNM_CHECK_SHAPE(g.shape() == shape(), "grad shape differs from the tensor's",
                  shape_str(g.shape()), shape_str(shape()));
  GNM_CHECK(g.dtype() == dtype() && g.device() == device(),
            "grad dtype/device differ from the tensor's", dtype_name(g.dtype()),
            dtype_name(dtype()), g.device().str(), device().str());
  impl().grad = g.impl_ptr();
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  GNM_CHECK(requires_grad(),
            "backward() on a tensor that does not require grad (no input requires grad, or it "
            "was made under NoGradGuard)");
  Tensor g = gradient;
  if (!g.defined()) {
    GNM_CHECK(numel() == 1, "backward() without a gradient needs a one-element tensor (a loss)",
              shape_str(shape()));
    g = ones(shape(), {.dtype = dtype(), .device = device()});
  }
  autograd::backward({*this}, {g}, retain_graph);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---- factories ---------------------------------------------------------------------------------

Tensor empty(Shape shape, TensorOptions o) {
  Tensor t = new_tensor(shape, o.dtype, o.device);
#ifndef NDEBUG
  // Debug builds poison fresh memory so a kernel that forgets to write shows NaN, not stale data.
  if (is_floating(o.dtype) && t.numel() > 0) {
    autograd::NoGradGuard guard;
    t.fill_(std::numeric_limits<double>::quiet_NaN());
  }
#endif
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor full(Shape shape, double value, TensorOptions o) {
  Tensor t = new_tensor(shape, o.dtype, o.device);
  t.fill_(value);
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}
Tensor zeros(Shape shape, TensorOptions o) { return full(std::move(shape), 0.0, o); }
Tensor ones(Shape shape, TensorOptions o) { return full(std::move(shape), 1.0, o); }
Tensor scalar_tensor(double value, TensorOptions o) { return full({}, value, o); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {.dtype = t.dtype(), .device = t.device()}); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), {.dtype = t.dtype(), .device = t.device()}); }

namespace {
template <class T>
Tensor from_host(std::span<const T> values, Shape shape, TensorOptions o) {
  check_shape(shape, "from_vector");
  GNM_CHECK_SHAPE(static_cast<std::int64_t>(values.size()) == shape_numel(shape),
                  "value count does not match the shape", values.size(), shape_str(shape));
  Tensor host = new_tensor(shape, dtype_of<T>(), Device::cpu());
  if (!values.empty()) std::memcpy(host.data_ptr(), values.data(), values.size_bytes());
  Tensor out = host.to(o.dtype).to(o.device);
  if (o.requires_grad) {
    if (out.is_same(host)) out = out.detach();
    out.requires_grad_(true);
  }
  return out;
}
}  // namespace

Tensor from_vector(std::span<const double> v, Shape shape, TensorOptions o) { return from_host(v, std::move(shape), o); }
Tensor from_vector(std::span<const float> v, Shape shape, TensorOptions o) { return from_host(v, std::move(shape), o); }
Tensor from_vector(std::span<const std::int64_t> v, Shape shape, TensorOptions o) {
  return from_host(v, std::move(shape), o);
}

Tensor arange(std::int64_t n, TensorOptions o) {
  GNM_CHECK(n >= 0, "arange needs n >= 0", n);
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return from_vector(std::span<const std::int64_t>(v), {n}, o);
}

Tensor rand(Shape shape, TensorOptions o, double lo, double hi) {
  GNM_CHECK(is_floating(o.dtype), "rand needs a floating dtype", dtype_name(o.dtype));
  check_shape(shape, "rand");
  const GeneratorState s = next_random_stream();
  const PhiloxRng rng(s.seed, s.subsequence);
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = lo + (hi - lo) * static_cast<double>(rng.uniform(i));
  return from_vector(std::span<const double>(v), std::move(shape), o);
}

Tensor randn(Shape shape, TensorOptions o, double mean, double stddev) {
  GNM_CHECK(is_floating(o.dtype), "randn needs a floating dtype", dtype_name(o.dtype));
  GNM_CHECK(stddev >= 0 && std::isfinite(stddev) && std::isfinite(mean), "randn needs finite mean and stddev >= 0", mean, stddev);
  check_shape(shape, "randn");
  const GeneratorState s = next_random_stream();
  const PhiloxRng rng(s.seed, s.subsequence);
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = mean + stddev * static_cast<double>(rng.normal(i));
  return from_vector(std::span<const double>(v), std::move(shape), o);
}

void manual_seed(std::uint64_t seed) {
  std::lock_guard lock(generator_mutex());
  generator() = GeneratorState{seed, 0};
}
GeneratorState generator_state() {
  std::lock_guard lock(generator_mutex());
  return generator();
}
void set_generator_state(GeneratorState s) {
  std::lock_guard lock(generator_mutex());
  generator() = s;
}
GeneratorState next_random_stream() {
  std::lock_guard lock(generator_mutex());
  GeneratorState s = generator();
  ++generator().subsequence;
  return s;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  if (a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to_vector<double>();
  const std::vector<double> y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) {
      if (!(equal_nan && std::isnan(x[i]) && std::isnan(y[i]))) return false;
      continue;
    }
    if (x[i] == y[i]) continue;  // equal infinities
    if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) return false;
  }
  return true;
}

}  // namespace gnm
