/// \file
/// Parameter initialisation (torch.nn.init): each function overwrites a tensor in place, under
/// no_grad, with draws from the default generator (gnm::manual_seed), and returns a handle to it
/// (the same TensorImpl).
///
/// Fans follow PyTorch: for a weight of shape (out, in, k…) fan_in = in·∏k and fan_out = out·∏k;
/// a 1-d tensor has fan_in = fan_out = its size. The bounds:
///   kaiming_uniform_:  U(−b, b), b = gain·√(3 / fan),  gain = calculate_gain(nonlinearity, a)
///   kaiming_normal_:   N(0, σ²),  σ = gain / √fan
///   xavier_uniform_:   U(−b, b), b = gain·√(6 / (fan_in + fan_out))
///   xavier_normal_:    N(0, σ²),  σ = gain·√(2 / (fan_in + fan_out))
///
/// \code
/// gnm::nn::init::kaiming_uniform_(layer->weight, std::sqrt(5.0));  // nn.Linear's default
/// gnm::nn::init::zeros_(layer->bias);
/// \endcode
#pragma once

#include <utility>

#include "gnm/tensor/tensor.hpp"

/// torch.nn.init's functions (chapter 10.1).
namespace gnm::nn::init {

/// Which fan the Kaiming schemes preserve the variance of.
enum class FanMode {
  fan_in,   ///< The forward pass (PyTorch's default).
  fan_out,  ///< The backward pass.
};

/// The nonlinearities calculate_gain knows (PyTorch's names).
enum class Nonlinearity {
  linear,      ///< gain 1 (also conv layers and sigmoid: 1)
  sigmoid,     ///< gain 1
  tanh,        ///< gain 5/3
  relu,        ///< gain √2
  leaky_relu,  ///< gain √(2 / (1 + a²))
  selu,        ///< gain 3/4
};

/// torch.nn.init.calculate_gain; `param` is leaky_relu's negative slope a (ignored otherwise).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

/// (fan_in, fan_out) of a tensor as PyTorch computes them; gnm::Error for fewer than 1 dimension.
std::pair<std::int64_t, std::int64_t> calculate_fans(const Tensor& t);

/// Fills with U(lo, hi) (gnm::Error unless lo <= hi, both finite).
Tensor uniform_(const Tensor& t, double lo = 0.0, double hi = 1.0);
/// Fills with N(mean, stddev²) (gnm::Error unless stddev >= 0, both finite).
Tensor normal_(const Tensor& t, double mean = 0.0, double stddev = 1.0);
/// Fills with `value`.
Tensor constant_(const Tensor& t, double value);
/// Fills with 0.
Tensor zeros_(const Tensor& t);
/// Fills with 1.
Tensor ones_(const Tensor& t);

/// Kaiming (He) uniform; `a` is leaky_relu's slope (√5 gives nn.Linear's default init).
/// Like every scheme here, a tensor with no elements is left alone (PyTorch warns and does the
/// same).
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                        Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
/// Kaiming (He) normal.
Tensor kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                       Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
/// Xavier (Glorot) uniform.
Tensor xavier_uniform_(const Tensor& t, double gain = 1.0);
/// Xavier (Glorot) normal.
Tensor xavier_normal_(const Tensor& t, double gain = 1.0);

}  // namespace gnm::nn::init
