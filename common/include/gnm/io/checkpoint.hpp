/// \file
/// Training checkpoints (chapter 10): the model, the optimizer state, the step, the epoch, the
/// random generator and the scheduler in one safetensors file, written atomically; and a
/// model-only export whose tensor names are PyTorch's state_dict keys.
///
/// A checkpoint file holds
///   - tensors "model.<state_dict key>" (each in the parameter's own dtype),
///   - tensors "optim.<key>" for the optimizer's state ("optim.state.3.exp_avg"),
///   - in `__metadata__` (strings, as the format requires): "gnm.checkpoint" = "1", "step",
///     "epoch", "rng.seed", "rng.subsequence" (u64 in decimal), "optim.type" ("Adam", …),
///     "optim.<scalar>" and "sched.<key>" (doubles printed with %.17g, which reads back to the
///     identical double), and "meta.<key>" for free-form strings.
///
/// \code
/// gnm::io::save_checkpoint(run_dir / "ckpt.safetensors", *model, &opt,
///                          {.step = step, .epoch = epoch, .rng = gnm::generator_state(),
///                           .scheduler = sched.state()});
/// // … later, in a new process:
/// const auto extras = gnm::io::load_checkpoint(run_dir / "ckpt.safetensors", *model, &opt);
/// gnm::set_generator_state(extras.rng);
/// sched.load_state(extras.scheduler);
/// \endcode
///
/// Resuming from a checkpoint and training on reproduces the uninterrupted run's losses bit for
/// bit on the CPU (tests/common/test_checkpoint.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "gnm/nn/module.hpp"
#include "gnm/optim/optimizer.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm::io {

/// What a checkpoint stores besides the model and the optimizer.
struct CheckpointExtras {
  std::int64_t step = 0;   ///< Optimizer steps taken (>= 0).
  std::int64_t epoch = 0;  ///< Epochs completed, or the epoch in progress (>= 0).
  /// The default generator's state (pass gnm::generator_state() when saving; restore it with
  /// gnm::set_generator_state after loading).
  GeneratorState rng{};
  std::map<std::string, double> scheduler{};      ///< An LrScheduler::state(), or empty.
  std::map<std::string, std::string> metadata{};  ///< Free-form strings (e.g. the command line).
};

/// Writes `model`'s state_dict, `optimizer`'s state (when not null) and `extras` to `path` in the
/// safetensors format, atomically (temporary file, fsync, rename: a crash leaves the old file).
/// Tensors on a GPU are copied to the host first. gnm::Error for a negative step or epoch or a
/// metadata key that is empty; gnm::IoError when the file cannot be written.
void save_checkpoint(const std::filesystem::path& path, const nn::Module& model,
                     const optim::Optimizer* optimizer, const CheckpointExtras& extras = {});

/// Reads a checkpoint written by save_checkpoint into `model` and (when not null) `optimizer`,
/// and returns the extras. Everything is validated before anything is changed: the file's header
/// (by the safetensors reader), that the tensor names are exactly the model's state_dict keys
/// and the optimizer's, each tensor's dtype and shape, the optimizer's type, and every metadata
/// number. Any problem is a gnm::IoError naming the file and the tensor or key; on error the
/// model and the optimizer are unchanged.
CheckpointExtras load_checkpoint(const std::filesystem::path& path, nn::Module& model,
                                 optim::Optimizer* optimizer);

/// Writes only the model's state_dict, with PyTorch's key names ("0.weight", …) and
/// `__metadata__` {"format": "pt"}, atomically: `safetensors.torch.load_file(path)` then gives a
/// dict that the equivalent torch.nn model accepts in load_state_dict. gnm::IoError when the file
/// cannot be written.
void save_model_safetensors(const std::filesystem::path& path, const nn::Module& model);

/// Loads a safetensors file of state_dict keys (e.g. one PyTorch's save_file wrote) into
/// `model` with Module::load_state_dict semantics; every tensor's dtype must equal the
/// parameter's. gnm::IoError naming the file and the tensor for a missing or unexpected key (with
/// `strict`), a shape or a dtype mismatch.
void load_model_safetensors(const std::filesystem::path& path, nn::Module& model,
                            bool strict = true);

}  // namespace gnm::io
