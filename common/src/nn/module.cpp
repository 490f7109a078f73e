// gnm::nn::Module: registration, dotted-name traversal, train/eval, moving and state dicts.
//
// Note [Moving parameters in place]
// An optimizer, a checkpoint writer or a user may hold Tensor handles to the parameters. PyTorch's
// Module.to() keeps those handles valid by assigning param.data; we do the same by swapping the
// moved tensor's storage, strides, offset and dtype into the parameter's own TensorImpl. The
// autograd fields (requires_grad, the cached AccumulateGrad) stay, so the handle is still the
// same leaf. A graph recorded before the move is stale afterwards, as in PyTorch.
#include "gnm/nn/module.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"

namespace gnm::nn {

namespace {

// Replaces the contents of `t`'s impl with those of `moved` (see the note above).
void swap_into(const Tensor& t, const Tensor& moved) {
  if (moved.is_same(t)) return;
  TensorImpl& dst = t.impl();
  const TensorImpl& src = moved.impl();
  dst.storage = src.storage;
  dst.shape = src.shape;
  dst.strides = src.strides;
  dst.offset = src.offset;
  dst.dtype = src.dtype;
}

// Moves a tensor and its .grad in place with `convert` (a to(Device) or to(DType)).
template <class F>
void move_in_place(const Tensor& t, F convert) {
  if (!t.defined()) return;
  const Tensor g = t.grad();
  swap_into(t, convert(t.detach()));
  if (g.defined()) swap_into(g, convert(g.detach()));
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Module::~Module() = default;

void Module::check_new_name(const std::string& name, const char* what) const {
  GNM_CHECK(!name.empty(), "a module entry needs a non-empty name", what);
  GNM_CHECK(name.find('.') == std::string::npos,
            "a module entry name must not contain '.' (dots separate submodules)", what, name);
  const auto used = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  GNM_CHECK(!used(params_) && !used(buffers_) && !used(children_),
            "a module entry with this name already exists", what, name, type_name());
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name, "parameter");
  if (value.defined()) {
    GNM_CHECK(value.is_leaf(), "a parameter must be a leaf tensor (use .detach())", name);
    GNM_CHECK(is_floating(value.dtype()), "a parameter must have a floating dtype", name,
              dtype_name(value.dtype()));
    value.requires_grad_(true);
  }
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name, "buffer");
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "module");
  GNM_CHECK(child != nullptr, "register_module needs a module, not null", name);
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix, bool params, bool buffers,
                     NamedTensors& out) const {
  if (params) {
    for (const auto& [n, t] : params_)
      if (t.defined()) out.emplace_back(prefix + n, t);
  }
  if (buffers) {
    for (const auto& [n, t] : buffers_)
      if (t.defined()) out.emplace_back(prefix + n, t);
  }
  for (const auto& [n, child] : children_) child->collect(prefix + n + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors all;
  collect("", true, false, all);
  // A tensor shared between two layers (tied weights) is one parameter: list it once, under its
  // first name, as PyTorch does (an optimizer must not step it twice).
  NamedTensors out;
  std::set<const TensorImpl*> seen;
  for (auto& e : all)
    if (seen.insert(e.second.impl_ptr().get()).second) out.push_back(std::move(e));
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& e : named_parameters()) out.push_back(std::move(e.second));
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

std::int64_t Module::num_parameters() const {
  std::int64_t n = 0;
  for (const auto& e : named_parameters()) n += e.second.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

void Module::zero_grad() {
  for (auto& e : named_parameters()) e.second.set_grad(Tensor());
}

void Module::to(Device device) {
  autograd::NoGradGuard no_grad;
  const auto convert = [device](const Tensor& t) { return t.to(device); };
  for (const auto& e : named_parameters()) move_in_place(e.second, convert);
  for (const auto& e : named_buffers()) move_in_place(e.second, convert);
}

void Module::to(DType dtype) {
  GNM_CHECK(is_floating(dtype), "Module::to(dtype) needs a floating dtype", dtype_name(dtype));
  autograd::NoGradGuard no_grad;
  const auto convert = [dtype](const Tensor& t) { return t.to(dtype); };
  for (const auto& e : named_parameters()) move_in_place(e.second, convert);
  for (const auto& e : named_buffers())
    if (is_floating(e.second.dtype())) move_in_place(e.second, convert);
}

NamedTensors Module::state_dict() const {
  // Parameters and buffers of each module before its children's: PyTorch's key order.
  NamedTensors out;
  const auto visit = [&](const auto& self, const std::string& prefix, const Module& m) -> void {
    for (const auto& [n, t] : m.params_)
      if (t.defined()) out.emplace_back(prefix + n, t.detach());
    for (const auto& [n, t] : m.buffers_)
      if (t.defined()) out.emplace_back(prefix + n, t.detach());
    for (const auto& [n, c] : m.children_) self(self, prefix + n + ".", *c);
  };
  visit(visit, "", *this);
  return out;
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  // Own tensors by name (not detached: we write into them). Shared tensors appear under each of
  // their names, as in PyTorch's state_dict, and may be loaded through either.
  NamedTensors own;
  collect("", true, true, own);
  std::map<std::string, Tensor> by_name(own.begin(), own.end());

  std::vector<std::string> unexpected;
  std::set<std::string> given;
  for (const auto& [name, value] : state) {
    GNM_CHECK(value.defined(), "load_state_dict: the entry has no tensor", name);
    GNM_CHECK(given.insert(name).second, "load_state_dict: the key appears twice", name);
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      unexpected.push_back(name);
      continue;
    }
    GNM_CHECK_SHAPE(value.shape() == it->second.shape(),
                    "load_state_dict: the saved shape differs from the module's", name,
                    shape_str(value.shape()), shape_str(it->second.shape()));
  }
  std::vector<std::string> missing;
  for (const auto& [name, t] : own)
    if (given.count(name) == 0) missing.push_back(name);
  GNM_CHECK(!strict || (missing.empty() && unexpected.empty()),
            "load_state_dict: the keys do not match the module's (pass strict = false to load a "
            "subset)",
            "missing: [" + join(missing) + "]", "unexpected: [" + join(unexpected) + "]",
            type_name());

  autograd::NoGradGuard no_grad;
  for (const auto& [name, value] : state) {
    const auto it = by_name.find(name);
    if (it != by_name.end()) it->second.copy_(value.detach());
  }
}

void Module::str_into(std::string& out, int indent) const {
  out += type_name() + "(" + extra_repr();
  if (!children_.empty()) {
    out += "\n";
    const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
    for (const auto& [n, c] : children_) {
      out += pad + "(" + n + "): ";
      c->str_into(out, indent + 2);
      out += "\n";
    }
    out += std::string(static_cast<std::size_t>(indent), ' ');
  }
  out += ")";
}

std::string Module::str() const {
  std::string out;
  str_into(out, 0);
  return out;
}

}  // namespace gnm::nn
