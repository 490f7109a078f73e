// Linear, the activation modules, Dropout, Flatten, Sequential and make_mlp.
#include "gnm/nn/layers.hpp"

#include <cmath>
#include <sstream>

#include "gnm/core/check.hpp"
#include "gnm/nn/init.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::nn {

// ---- Linear -------------------------------------------------------------------------------------

//! [linear_init]
Linear::Linear(std::int64_t in, std::int64_t out, bool with_bias)
    : in_features(in), out_features(out) {
  GNM_CHECK(in >= 0 && out >= 0, "Linear needs non-negative sizes", in, out);
  weight = register_parameter("weight", empty({out, in}));
  bias = register_parameter("bias", with_bias ? empty({out}) : Tensor());
  reset_parameters();
}

void Linear::reset_parameters() {
  // kaiming_uniform_(a = √5): gain = √(2 / (1 + 5)) = 1/√3, bound = gain·√(3 / in) = 1/√in.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}
//! [linear_init]

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) +
         ", out_features=" + std::to_string(out_features) +
         ", bias=" + (bias.defined() ? "True" : "False");
}

// ---- activations --------------------------------------------------------------------------------

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x, tanh_approximation); }
std::string GELU::extra_repr() const {
  return tanh_approximation ? "approximate='tanh'" : "approximate='none'";
}
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

Dropout::Dropout(double prob) : p(prob) {
  GNM_CHECK(prob >= 0.0 && prob < 1.0, "Dropout needs a probability in [0, 1)", prob);
}
Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training()); }
std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p << ", inplace=False";
  return os.str();
}

Tensor Flatten::forward(const Tensor& x) { return x.flatten(start_dim, end_dim); }
std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

// ---- Sequential ---------------------------------------------------------------------------------

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

const std::shared_ptr<Module>& Sequential::at(std::size_t i) const {
  GNM_CHECK(i < size(), "Sequential::at: index out of range", i, size());
  return named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, m] : named_children()) h = m->forward(h);
  return h;
}

// ---- make_mlp -----------------------------------------------------------------------------------

std::shared_ptr<Module> make_activation(Activation activation) {
  switch (activation) {
    case Activation::relu: return std::make_shared<ReLU>();
    case Activation::gelu: return std::make_shared<GELU>();
    case Activation::silu: return std::make_shared<SiLU>();
    case Activation::tanh: return std::make_shared<Tanh>();
    case Activation::sigmoid: return std::make_shared<Sigmoid>();
  }
  GNM_CHECK(false, "make_activation: unknown activation", static_cast<int>(activation));
  return nullptr;
}

//! [make_mlp]
std::shared_ptr<Sequential> make_mlp(const std::vector<std::int64_t>& sizes, Activation activation,
                                     double dropout) {
  GNM_CHECK(sizes.size() >= 2, "make_mlp needs at least an input and an output size",
            sizes.size());
  GNM_CHECK(dropout >= 0.0 && dropout < 1.0, "make_mlp: dropout must lie in [0, 1)", dropout);
  auto model = std::make_shared<Sequential>();
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    model->push_back(std::make_shared<Linear>(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.size()) {  // no activation after the last layer: it produces logits
      model->push_back(make_activation(activation));
      if (dropout > 0.0) model->push_back(std::make_shared<Dropout>(dropout));
    }
  }
  return model;
}
//! [make_mlp]

}  // namespace gnm::nn
