/// \file
/// The layers of chapter 10's MLP: Linear with PyTorch's default initialisation, the activations
/// as modules, Dropout, Flatten and Sequential, plus make_mlp() for 784-256-128-10.
///
/// Each layer's parameter names, shapes and initial distribution are PyTorch's, so
/// `torch.nn.Sequential(nn.Linear(784, 256), nn.ReLU(), …).load_state_dict(…)` accepts our
/// state_dict unchanged (see gnm/io/checkpoint.hpp).
///
/// \code
/// gnm::manual_seed(0);
/// auto model = gnm::nn::make_mlp({784, 256, 128, 10}, gnm::nn::Activation::relu);
/// gnm::Tensor logits = model->forward(x);  // x (B, 784) -> (B, 10)
/// \endcode
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "gnm/nn/module.hpp"

namespace gnm::nn {

/// y = x·Wᵀ + b (torch.nn.Linear): weight (out, in), bias (out).
///
/// Initialised like PyTorch: kaiming_uniform_(weight, a = √5), which is U(−1/√in, 1/√in), and
/// bias from the same U(−1/√in, 1/√in), drawn from the default generator (gnm::manual_seed).
class Linear : public Module {
 public:
  /// A layer mapping `in` features to `out` features (both >= 0; gnm::Error otherwise), with a
  /// bias unless `with_bias` is false. Parameters are f32 on the CPU (use Module::to to move
  /// them).
  Linear(std::int64_t in, std::int64_t out, bool with_bias = true);
  /// x (…, in) → (…, out) with gnm::linear (bias add fused into the GEMM).
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }  ///< "Linear".
  /// "in_features=784, out_features=256, bias=True".
  std::string extra_repr() const override;
  /// Restores PyTorch's default initialisation (new draws from the default generator).
  void reset_parameters();

  Tensor weight;  ///< (out, in), a parameter.
  Tensor bias;    ///< (out), a parameter; undefined when built without bias.
  std::int64_t in_features;   ///< Input width.
  std::int64_t out_features;  ///< Output width.
};

/// max(x, 0) (torch.nn.ReLU).
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;                   ///< gnm::relu(x).
  std::string type_name() const override { return "ReLU"; }  ///< "ReLU".
};

/// x·Φ(x) (torch.nn.GELU), exact or with the tanh approximation.
class GELU : public Module {
 public:
  /// approximate = "tanh" in PyTorch's terms when `tanh_approx`.
  explicit GELU(bool tanh_approx = false) : tanh_approximation(tanh_approx) {}
  Tensor forward(const Tensor& x) override;                   ///< gnm::gelu(x, …).
  std::string type_name() const override { return "GELU"; }  ///< "GELU".
  std::string extra_repr() const override;  ///< "approximate='tanh'" or "approximate='none'".
  bool tanh_approximation;                  ///< Use the tanh formula.
};

/// x·σ(x) (torch.nn.SiLU).
class SiLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;                   ///< gnm::silu(x).
  std::string type_name() const override { return "SiLU"; }  ///< "SiLU".
};

/// tanh x (torch.nn.Tanh).
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;                   ///< gnm::tanh(x).
  std::string type_name() const override { return "Tanh"; }  ///< "Tanh".
};

/// 1 / (1 + e⁻ˣ) (torch.nn.Sigmoid).
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;                      ///< gnm::sigmoid(x).
  std::string type_name() const override { return "Sigmoid"; }  ///< "Sigmoid".
};

/// Inverted dropout in training mode, the identity in eval mode (torch.nn.Dropout).
class Dropout : public Module {
 public:
  /// Drops each element with probability `prob` in [0, 1) (gnm::Error otherwise).
  explicit Dropout(double prob = 0.5);
  Tensor forward(const Tensor& x) override;                      ///< gnm::dropout(x, p, training).
  std::string type_name() const override { return "Dropout"; }  ///< "Dropout".
  std::string extra_repr() const override;                       ///< "p=0.5, inplace=False".
  double p;                                                      ///< Drop probability.
};

/// Flattens dimensions start_dim..end_dim into one (torch.nn.Flatten; defaults keep the batch).
class Flatten : public Module {
 public:
  /// Merges dims start_dim..end_dim (negative counts from the end).
  explicit Flatten(std::int64_t start = 1, std::int64_t end = -1)
      : start_dim(start), end_dim(end) {}
  Tensor forward(const Tensor& x) override;                      ///< x.flatten(start, end).
  std::string type_name() const override { return "Flatten"; }  ///< "Flatten".
  std::string extra_repr() const override;                       ///< "start_dim=1, end_dim=-1".
  std::int64_t start_dim;                                        ///< First merged dimension.
  std::int64_t end_dim;                                          ///< Last merged dimension.
};

/// Runs its children in order (torch.nn.Sequential); they are named "0", "1", ….
class Sequential : public Module {
 public:
  /// An empty sequence.
  Sequential() = default;
  /// The given modules in order.
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  /// Appends `module` under the name of its position. gnm::Error for null.
  void push_back(std::shared_ptr<Module> module);
  /// The number of modules.
  std::size_t size() const noexcept { return named_children().size(); }
  /// Module `i`; gnm::Error naming i and size() when out of range.
  const std::shared_ptr<Module>& at(std::size_t i) const;
  /// Each module's forward in turn.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }  ///< "Sequential".
};

/// The activations make_mlp() can put between its Linear layers.
enum class Activation {
  relu,     ///< ReLU
  gelu,     ///< GELU (exact)
  silu,     ///< SiLU
  tanh,     ///< Tanh
  sigmoid,  ///< Sigmoid
};

/// A new module of `activation`'s kind.
std::shared_ptr<Module> make_activation(Activation activation);

/// Linear(sizes[0], sizes[1]), act, Linear(sizes[1], sizes[2]), act, …, Linear(…, sizes.back())
/// with no activation after the last layer (logits), optionally a Dropout(`dropout`) after each
/// activation. Names are PyTorch's for the same nn.Sequential ("0.weight", "2.weight", …).
/// gnm::Error for fewer than two sizes or a negative size.
std::shared_ptr<Sequential> make_mlp(const std::vector<std::int64_t>& sizes,
                                     Activation activation = Activation::relu,
                                     double dropout = 0.0);

}  // namespace gnm::nn
