// The optimizers by name, as the command line and the tables of 10.2 call them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gnm/optim/optimizer.hpp"

namespace chapter10 {

/// The names make_optimizer() knows, in the order 10.2 lists them.
const std::vector<std::string>& optimizer_names();

/// "sgd", "momentum" (SGD, 0.9), "nesterov" (SGD, 0.9, Nesterov), "adam", "adamw", "rmsprop",
/// with learning rate `lr` and weight decay `weight_decay` (AdamW's decoupled decay is 0.01 when
/// weight_decay is 0). gnm::Error naming the choices for any other name.
std::unique_ptr<gnm::optim::Optimizer> make_optimizer(const std::string& name,
                                                      std::vector<gnm::Tensor> params, double lr,
                                                      double weight_decay = 0.0);

/// A learning rate that works for `name` on the chapter's MLP (SGD wants ~100× Adam's).
double default_lr(const std::string& name);

}  // namespace chapter10
