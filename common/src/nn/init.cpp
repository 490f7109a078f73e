// torch.nn.init's schemes on gnm tensors: fans and gains as PyTorch computes them, draws from the
// default generator, writes in place under no_grad.
#include "gnm/nn/init.hpp"

#include <cmath>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"

namespace gnm::nn::init {

namespace {

// Writes `values` (a fresh tensor of t's shape) into t without recording.
Tensor assign(const Tensor& t, const Tensor& values) {
  autograd::NoGradGuard no_grad;
  Tensor handle = t;
  handle.copy_(values);
  return handle;
}

TensorOptions like(const Tensor& t) {
  GNM_CHECK(is_floating(t.dtype()), "init needs a floating tensor", dtype_name(t.dtype()));
  return {.dtype = t.dtype(), .device = t.device()};
}

double fan(const Tensor& t, FanMode mode) {
  const auto [fan_in, fan_out] = calculate_fans(t);
  const std::int64_t f = mode == FanMode::fan_in ? fan_in : fan_out;
  GNM_CHECK(f > 0, "Kaiming init of a tensor with no elements along its fan",
            shape_str(t.shape()));
  return static_cast<double>(f);
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::linear:
    case Nonlinearity::sigmoid:
      return 1.0;
    case Nonlinearity::tanh:
      return 5.0 / 3.0;
    case Nonlinearity::relu:
      return std::sqrt(2.0);
    case Nonlinearity::leaky_relu:
      GNM_CHECK(std::isfinite(param), "calculate_gain: leaky_relu's slope must be finite", param);
      return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::selu:
      return 3.0 / 4.0;
  }
  GNM_CHECK(false, "calculate_gain: unknown nonlinearity", static_cast<int>(nonlinearity));
  return 1.0;
}

std::pair<std::int64_t, std::int64_t> calculate_fans(const Tensor& t) {
  GNM_CHECK(t.dim() >= 1, "fans need a tensor with at least one dimension",
            shape_str(t.shape()));
  if (t.dim() == 1) return {t.size(0), t.size(0)};
  // (out, in, k…): each output sees in·∏k inputs; each input feeds out·∏k outputs.
  std::int64_t receptive = 1;
  for (std::int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor uniform_(const Tensor& t, double lo, double hi) {
  GNM_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
            "uniform_ needs finite bounds with lo <= hi", lo, hi);
  return assign(t, rand(t.shape(), like(t), lo, hi));
}

Tensor normal_(const Tensor& t, double mean, double stddev) {
  GNM_CHECK(std::isfinite(mean) && std::isfinite(stddev) && stddev >= 0,
            "normal_ needs a finite mean and a finite stddev >= 0", mean, stddev);
  return assign(t, randn(t.shape(), like(t), mean, stddev));
}

Tensor constant_(const Tensor& t, double value) {
  autograd::NoGradGuard no_grad;
  Tensor handle = t;
  handle.fill_(value);
  return handle;
}

Tensor zeros_(const Tensor& t) { return constant_(t, 0.0); }
Tensor ones_(const Tensor& t) { return constant_(t, 1.0); }

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  if (t.numel() == 0) return t;  // PyTorch warns and leaves it; there is nothing to draw
  // Var(U(−b, b)) = b²/3 = gain²/fan  ⇒  b = gain·√(3/fan).
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / fan(t, mode));
  return uniform_(t, -bound, bound);
}

Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  if (t.numel() == 0) return t;
  return normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan(t, mode)));
}

Tensor xavier_uniform_(const Tensor& t, double gain) {
  if (t.numel() == 0) return t;
  const auto [fan_in, fan_out] = calculate_fans(t);
  GNM_CHECK(fan_in + fan_out > 0, "xavier_uniform_ of a tensor with zero fans",
            shape_str(t.shape()));
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(t, -bound, bound);
}

Tensor xavier_normal_(const Tensor& t, double gain) {
  if (t.numel() == 0) return t;
  const auto [fan_in, fan_out] = calculate_fans(t);
  GNM_CHECK(fan_in + fan_out > 0, "xavier_normal_ of a tensor with zero fans",
            shape_str(t.shape()));
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

}  // namespace gnm::nn::init
