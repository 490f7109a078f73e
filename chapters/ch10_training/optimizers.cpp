// The optimizers by name (see optimizers.hpp).
#include "optimizers.hpp"

#include "gnm/core/error.hpp"

namespace chapter10 {

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"sgd",  "momentum", "nesterov",
                                                 "adam", "adamw",    "rmsprop"};
  return names;
}

//! [make_optimizer]
std::unique_ptr<gnm::optim::Optimizer> make_optimizer(const std::string& name,
                                                      std::vector<gnm::Tensor> params, double lr,
                                                      double weight_decay) {
  using namespace gnm::optim;
  if (name == "sgd" || name == "momentum" || name == "nesterov") {
    SgdOptions o{.lr = lr, .weight_decay = weight_decay};
    if (name != "sgd") o.momentum = 0.9;
    o.nesterov = name == "nesterov";
    return std::make_unique<SGD>(std::move(params), o);
  }
  if (name == "adam") {
    return std::make_unique<Adam>(std::move(params),
                                  AdamOptions{.lr = lr, .weight_decay = weight_decay});
  }
  if (name == "adamw") {
    AdamOptions o = adamw_defaults();  // decoupled decay 0.01 unless asked otherwise
    o.lr = lr;
    if (weight_decay > 0) o.weight_decay = weight_decay;
    return std::make_unique<AdamW>(std::move(params), o);
  }
  if (name == "rmsprop") {
    return std::make_unique<RMSProp>(std::move(params),
                                     RmsPropOptions{.lr = lr, .weight_decay = weight_decay});
  }
  throw gnm::Error("--optimizer must be one of sgd, momentum, nesterov, adam, adamw, rmsprop; got '" +
                   name + "'");
}
//! [make_optimizer]

double default_lr(const std::string& name) {
  if (name == "sgd") return 0.1;
  if (name == "momentum" || name == "nesterov") return 0.05;
  if (name == "rmsprop") return 3e-4;
  return 1e-3;  // adam, adamw
}

}  // namespace chapter10
