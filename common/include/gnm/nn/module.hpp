/// \file
/// gnm::nn::Module (chapter 10.1): the base of every layer and model. A Module owns named
/// parameters (tensors that require grad), named buffers (state that is saved but not trained) and
/// named child modules, and gives them back with PyTorch's dotted names ("0.weight",
/// "fc1.bias"), so that a state_dict written here has exactly the keys PyTorch's model has.
///
/// \code
/// auto model = std::make_shared<gnm::nn::Sequential>();
/// model->push_back(std::make_shared<gnm::nn::Linear>(784, 256));
/// model->push_back(std::make_shared<gnm::nn::ReLU>());
/// model->push_back(std::make_shared<gnm::nn::Linear>(256, 10));
/// for (const auto& [name, p] : model->named_parameters()) std::cout << name << "\n";
/// // 0.weight  0.bias  2.weight  2.bias
/// \endcode
///
/// Modules are held by std::shared_ptr (a child may be registered in two parents, as in PyTorch);
/// they are not copyable.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gnm/tensor/tensor.hpp"

/// Layers and models (chapter 10): Module, Linear, activations, Dropout, Sequential, init.
namespace gnm::nn {

/// A list of named tensors in a fixed order, as a PyTorch state_dict (an OrderedDict).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// The base of every layer: named parameters, buffers and children; train/eval; moving and
/// saving. See the file comment.
class Module {
 public:
  virtual ~Module();
  Module(const Module&) = delete;             ///< Parameters have identity: not copyable.
  Module& operator=(const Module&) = delete;  ///< Parameters have identity: not copyable.

  /// The layer's computation. Modules with several inputs define their own call operators.
  virtual Tensor forward(const Tensor& x) = 0;
  /// forward(x).
  Tensor operator()(const Tensor& x) { return forward(x); }

  /// The class name as PyTorch prints it ("Linear", "ReLU", …).
  virtual std::string type_name() const = 0;
  /// The text between the parentheses of str(), e.g. "in_features=784, out_features=256,
  /// bias=True"; empty by default.
  virtual std::string extra_repr() const { return {}; }
  /// PyTorch's module printout: the type, extra_repr() and the children indented, one per line.
  std::string str() const;

  /// \name Registration (called by layer constructors)
  ///@{

  /// Registers `value` as the parameter `name` (requires_grad is switched on unless it is an
  /// undefined tensor, which registers an absent parameter such as a disabled bias) and returns
  /// a handle to it. gnm::Error for an empty name, a name with a '.', a name already used, or a
  /// non-leaf or non-floating tensor.
  Tensor register_parameter(const std::string& name, Tensor value);
  /// Registers a buffer: saved in state_dict() and moved by to(), but not a parameter (no grad).
  /// Same name rules as register_parameter.
  Tensor register_buffer(const std::string& name, Tensor value);
  /// Registers `child` under `name` and returns it. gnm::Error for a bad or used name or a null
  /// child.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }
  ///@}

  /// \name Traversal (registration order: own entries first, then each child's, recursively)
  ///@{

  /// Every parameter with its dotted name; a tensor registered twice is listed once (first name).
  /// Absent (undefined) parameters are skipped.
  NamedTensors named_parameters() const;
  /// The tensors of named_parameters() (pass these to an optimizer).
  std::vector<Tensor> parameters() const;
  /// Every buffer with its dotted name.
  NamedTensors named_buffers() const;
  /// The direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  /// The total number of parameter elements (each shared tensor counted once).
  std::int64_t num_parameters() const;
  ///@}

  /// \name Modes and gradients
  ///@{

  /// Sets training mode on this module and every descendant (Dropout reads it).
  void train(bool on = true);
  /// train(false).
  void eval() { train(false); }
  /// True in training mode (the default).
  bool is_training() const noexcept { return training_; }
  /// Sets every parameter's .grad to undefined (PyTorch's set_to_none = True default).
  void zero_grad();
  ///@}

  /// \name Moving parameters in place
  ///@{

  /// Moves every parameter and buffer (and any .grad) to `device`. The Tensor handles stay valid:
  /// the moved tensor's storage, strides and offset replace the old ones inside the same impl, so
  /// a tensor obtained from parameters() before the call sees the new device. Create optimizers
  /// after moving (their state lives on the parameters' device).
  void to(Device device);
  /// Converts every floating parameter and buffer (and .grad) to `dtype`, in place as to(Device);
  /// integer buffers are left alone (as PyTorch's Module.to(dtype)). gnm::Error unless `dtype`
  /// is floating.
  void to(DType dtype);
  ///@}

  /// \name Saving and loading
  ///@{

  /// The parameters then the buffers of this module, then each child's, with dotted names: the
  /// keys and order of PyTorch's state_dict(). The tensors alias the module's (detached).
  NamedTensors state_dict() const;
  /// Copies `state` into the module's tensors (under no_grad; values converted to each tensor's
  /// dtype and device). Every entry is checked before anything is written: a shape mismatch is a
  /// gnm::ShapeError naming the key and both shapes; with `strict`, missing and unexpected keys are
  /// a gnm::Error listing them all.
  void load_state_dict(const NamedTensors& state, bool strict = true);
  ///@}

 protected:
  /// An empty module in training mode (layers derive from it).
  Module() = default;

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;
  void str_into(std::string& out, int indent) const;

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace gnm::nn
