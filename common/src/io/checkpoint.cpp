// Checkpoints on top of the safetensors reader/writer: tensors for the model and the optimizer,
// every scalar as a metadata string that reads back to the identical value.
//
// Note [Exact scalars in metadata]
// safetensors metadata values are strings. A double printed with %.17g has enough digits to
// name exactly one double, and strtod reads it back to that double (IEEE round-trip); inf and nan
// print as "inf"/"nan", which strtod also reads. u64 counters (the Philox seed and subsequence)
// are printed in decimal and parsed with std::from_chars, which rejects anything but digits.
#include "gnm/io/checkpoint.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "gnm/autograd/node.hpp"
#include "gnm/core/check.hpp"
#include "gnm/io/safetensors.hpp"

namespace gnm::io {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw IoError(path.string() + ": " + what, __FILE__, __LINE__);
}

std::string format_double(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

TensorRecord to_record(const std::string& name, const Tensor& t) {
  const Tensor c = t.detach().cpu().contiguous();
  const auto* bytes = static_cast<const std::byte*>(c.data_ptr());
  const std::size_t n = static_cast<std::size_t>(c.numel()) * c.element_size();
  return make_record_bytes(name, c.dtype(), c.shape(), std::span<const std::byte>(bytes, n));
}

Tensor to_tensor(const TensorRecord& r) {
  Tensor t = empty(r.shape, {.dtype = r.dtype});
  if (!r.data.empty()) std::memcpy(t.data_ptr(), r.data.data(), r.data.size());
  return t;
}

const std::string* find_meta(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.metadata.find(key);
  return it == f.metadata.end() ? nullptr : &it->second;
}

const std::string& need_meta(const SafetensorsFile& f, const std::filesystem::path& path,
                             const std::string& key) {
  const std::string* v = find_meta(f, key);
  if (v == nullptr) fail(path, "checkpoint metadata lacks \"" + key + "\"");
  return *v;
}

double parse_double(const std::filesystem::path& path, const std::string& key,
                    const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    fail(path, "metadata \"" + key + "\" is not a number: \"" + text + "\"");
  }
  return v;
}

std::uint64_t parse_u64(const std::filesystem::path& path, const std::string& key,
                        const std::string& text) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    fail(path, "metadata \"" + key + "\" is not an unsigned integer: \"" + text + "\"");
  }
  return v;
}

std::int64_t parse_count(const std::filesystem::path& path, const std::string& key,
                         const std::string& text) {
  const std::uint64_t v = parse_u64(path, key, text);
  if (v > static_cast<std::uint64_t>(INT64_MAX)) fail(path, "metadata \"" + key + "\" too large");
  return static_cast<std::int64_t>(v);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Checks that `r` can be loaded into `want` (same dtype and shape).
void check_record(const std::filesystem::path& path, const TensorRecord& r, const Tensor& want) {
  if (r.dtype != want.dtype()) {
    fail(path, "tensor \"" + r.name + "\" has dtype " + std::string(dtype_name(r.dtype)) +
                   " but the model's is " + std::string(dtype_name(want.dtype())));
  }
  if (r.shape != want.shape()) {
    fail(path, "tensor \"" + r.name + "\" has shape " + shape_str(r.shape) +
                   " but the model's is " + shape_str(want.shape()));
  }
}

// Matches the file's tensors with `prefix` against the model's state_dict; returns the entries to
// load (CPU tensors with the model's keys). Missing or (with `strict`) unexpected names, dtype and
// shape mismatches are IoErrors.
nn::NamedTensors model_entries(const std::filesystem::path& path, const SafetensorsFile& f,
                               const nn::Module& model, const std::string& prefix,
                               bool strict) {
  nn::NamedTensors out;
  std::set<std::string> known;
  for (const auto& [key, t] : model.state_dict()) {
    known.insert(prefix + key);
    const TensorRecord* r = f.find(prefix + key);
    if (r == nullptr) {
      if (strict) fail(path, "tensor \"" + prefix + key + "\" of the model is missing");
      continue;
    }
    check_record(path, *r, t);
    out.emplace_back(key, to_tensor(*r));
  }
  for (const TensorRecord& r : f.tensors) {
    if (strict && starts_with(r.name, prefix.c_str()) && known.count(r.name) == 0) {
      fail(path, "tensor \"" + r.name + "\" is not in the model");
    }
  }
  return out;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const nn::Module& model,
                     const optim::Optimizer* optimizer, const CheckpointExtras& extras) {
  GNM_CHECK(extras.step >= 0 && extras.epoch >= 0, "save_checkpoint: step and epoch must be >= 0",
            extras.step, extras.epoch);
  std::vector<TensorRecord> records;
  std::map<std::string, std::string> meta{{"format", "pt"}, {"gnm.checkpoint", "1"}};
  for (const auto& [key, t] : model.state_dict()) records.push_back(to_record("model." + key, t));
  if (optimizer != nullptr) {
    const optim::OptimizerState st = optimizer->state_dict();
    for (const auto& [key, t] : st.tensors) records.push_back(to_record("optim." + key, t));
    for (const auto& [key, v] : st.scalars) meta["optim." + key] = format_double(v);
    meta["optim.type"] = optimizer->name();
  }
  meta["step"] = std::to_string(extras.step);
  meta["epoch"] = std::to_string(extras.epoch);
  meta["rng.seed"] = std::to_string(extras.rng.seed);
  meta["rng.subsequence"] = std::to_string(extras.rng.subsequence);
  for (const auto& [key, v] : extras.scheduler) {
    GNM_CHECK(!key.empty(), "save_checkpoint: empty scheduler key");
    meta["sched." + key] = format_double(v);
  }
  for (const auto& [key, v] : extras.metadata) {
    GNM_CHECK(!key.empty(), "save_checkpoint: empty metadata key");
    meta["meta." + key] = v;
  }
  write_safetensors(path, records, meta);
}

CheckpointExtras load_checkpoint(const std::filesystem::path& path, nn::Module& model,
                                 optim::Optimizer* optimizer) {
  const SafetensorsFile f = read_safetensors(path);
  const std::string* tag = find_meta(f, "gnm.checkpoint");
  if (tag == nullptr || *tag != "1") {
    fail(path, "not a gnm checkpoint (metadata \"gnm.checkpoint\" is missing or not \"1\")");
  }

  // 1. Validate everything.
  const nn::NamedTensors model_state = model_entries(path, f, model, "model.", true);
  for (const TensorRecord& r : f.tensors) {
    if (!starts_with(r.name, "model.") && !starts_with(r.name, "optim.")) {
      fail(path, "tensor \"" + r.name + "\" is neither model.* nor optim.*");
    }
  }
  optim::OptimizerState opt_state;
  if (optimizer != nullptr) {
    const std::string& type = need_meta(f, path, "optim.type");
    if (type != optimizer->name()) {
      fail(path, "the checkpoint's optimizer is " + type + ", not " + optimizer->name());
    }
    for (const auto& [key, text] : f.metadata) {
      if (starts_with(key, "optim.") && key != "optim.type") {
        opt_state.scalars[key.substr(6)] = parse_double(path, key, text);
      }
    }
    for (const TensorRecord& r : f.tensors) {
      if (!starts_with(r.name, "optim.")) continue;
      if (r.dtype != DType::f32) {
        fail(path, "tensor \"" + r.name + "\" has dtype " + std::string(dtype_name(r.dtype)) +
                       "; optimizer state is f32");
      }
      opt_state.tensors.emplace_back(r.name.substr(6), to_tensor(r));
    }
    try {
      optimizer->check_state_dict(opt_state);
    } catch (const Error& e) {
      fail(path, std::string("the optimizer state does not fit: ") + e.what());
    }
  }
  CheckpointExtras extras;
  extras.step = parse_count(path, "step", need_meta(f, path, "step"));
  extras.epoch = parse_count(path, "epoch", need_meta(f, path, "epoch"));
  extras.rng.seed = parse_u64(path, "rng.seed", need_meta(f, path, "rng.seed"));
  extras.rng.subsequence =
      parse_u64(path, "rng.subsequence", need_meta(f, path, "rng.subsequence"));
  for (const auto& [key, text] : f.metadata) {
    if (starts_with(key, "sched.")) extras.scheduler[key.substr(6)] = parse_double(path, key, text);
    if (starts_with(key, "meta.")) extras.metadata[key.substr(5)] = text;
  }

  // 2. Apply: the optimizer first (its load has the strong guarantee and re-checks the buffers
  // its options need), then the model (already fully validated above).
  if (optimizer != nullptr) {
    try {
      optimizer->load_state_dict(opt_state);
    } catch (const Error& e) {
      fail(path, std::string("the optimizer state does not fit: ") + e.what());
    }
  }
  model.load_state_dict(model_state, true);
  return extras;
}

void save_model_safetensors(const std::filesystem::path& path, const nn::Module& model) {
  std::vector<TensorRecord> records;
  for (const auto& [key, t] : model.state_dict()) records.push_back(to_record(key, t));
  write_safetensors(path, records, {{"format", "pt"}});
}

void load_model_safetensors(const std::filesystem::path& path, nn::Module& model, bool strict) {
  const SafetensorsFile f = read_safetensors(path);
  const nn::NamedTensors entries = model_entries(path, f, model, "", strict);
  model.load_state_dict(entries, strict);
}

}  // namespace gnm::io
