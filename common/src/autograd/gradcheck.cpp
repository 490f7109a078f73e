// Central-difference gradient check in float64 (see GradcheckOptions for the error model).
#include "gnm/autograd/gradcheck.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

#include "gnm/autograd/node.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/tensor/ops.hpp"

namespace gnm::autograd {

namespace {

// sum(f(inputs) * w) as a double, without recording.
double weighted(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                const std::vector<Tensor>& inputs, const std::vector<double>& w) {
  NoGradGuard guard;
  const std::vector<double> y = f(inputs).to_vector<double>();
  double acc = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) acc += y[i] * w[i];
  return acc;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& o) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    GNM_CHECK(!inputs[i].requires_grad() || (inputs[i].dtype() == DType::f64 && !inputs[i].is_cuda()),
              "gradcheck needs float64 CPU inputs", i, dtype_name(inputs[i].dtype()));
  }
  // Leaves of our own so that .grad starts empty and the caller's tensors are untouched.
  std::vector<Tensor> x;
  for (const Tensor& t : inputs) {
    if (!t.defined()) {
      x.push_back(t);
      continue;
    }
    Tensor c = t.detach().clone();
    if (t.requires_grad()) c.requires_grad_(true);
    x.push_back(c);
  }
  const Tensor y = f(x);
  const auto n = static_cast<std::size_t>(y.numel());
  // Weights in [0.5, 1.5) so no output is ignored and none dominates.
  std::vector<double> w(n);
  const PhiloxRng rng(0x9a4dc4ecULL, 0);
  for (std::size_t i = 0; i < n; ++i) w[i] = 0.5 + static_cast<double>(rng.uniform(i));
  GradcheckResult result;
  if (!y.requires_grad()) {
    result.ok = false;
    result.message = "f's output does not require grad";
    return result;
  }
  y.backward(from_vector(std::span<const double>(w), y.shape(), {.dtype = y.dtype(), .device = y.device()}));

  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!x[i].defined() || !x[i].requires_grad()) continue;
    const Tensor g = x[i].grad();
    const std::vector<double> analytic =
        g.defined() ? g.to_vector<double>() : std::vector<double>(static_cast<std::size_t>(x[i].numel()), 0.0);
    // Perturb a contiguous copy element by element.
    Tensor base = x[i].detach().contiguous().clone();
    auto* p = base.data<double>();
    for (std::int64_t k = 0; k < base.numel(); ++k) {
      const double keep = p[k];
      std::vector<Tensor> args = x;
      args[i] = base;
      p[k] = keep + o.eps;
      const double up = weighted(f, args, w);
      p[k] = keep - o.eps;
      const double down = weighted(f, args, w);
      p[k] = keep;
      const double numeric = (up - down) / (2 * o.eps);
      const double a = analytic[static_cast<std::size_t>(k)];
      const double err = std::abs(a - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (result.ok && !(err <= o.atol + o.rtol * std::abs(numeric))) {
        result.ok = false;
        std::ostringstream os;
        os.precision(12);
        os << "input " << i << " element " << k << ": analytic " << a << " vs numeric " << numeric;
        result.message = os.str();
      }
    }
  }
  return result;
}

}  // namespace gnm::autograd
