/// \file
/// The safetensors file format (chapter 10): checkpoints that PyTorch's and Hugging Face's
/// `safetensors` readers load, and files they wrote that we load.
///
/// Layout of a file, all integers little-endian:
///
///     [8 bytes]  N, a u64: the length of the header
///     [N bytes]  a JSON object, padded with spaces so that 8 + N is a multiple of 8:
///                {"__metadata__": {"format": "pt"},
///                 "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
///     [rest]     the data buffer; data_offsets are [begin, end) byte offsets into it
///
/// The tensors must cover the buffer exactly: no gaps, no overlaps, no trailing bytes (the
/// reference reader rejects anything else, and so do we). The writer lays tensors out like the
/// reference writer: larger element types first (so every tensor starts at a multiple of its
/// element size when the buffer is mapped at an 8-aligned address), then by name. For files with
/// at most one metadata entry our bytes equal the reference writer's (tested against a fixture).
///
///   std::vector<gnm::io::TensorRecord> recs;
///   recs.push_back(gnm::io::make_record<float>("fc1.weight", {256, 784}, weights));
///   gnm::io::write_safetensors("run/model.safetensors", recs, {{"step", "1200"}});
///   const auto file = gnm::io::read_safetensors("run/model.safetensors");
///   std::vector<float> w = file.at("fc1.weight").values<float>();
///
/// Every problem with a file, from a truncated length field to overlapping tensors, is a
/// gnm::IoError naming the file and what is wrong; no input makes the reader crash or read out of
/// bounds (fuzzed in tests/common/test_safetensors.cpp).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gnm/core/dtype.hpp"
#include "gnm/core/error.hpp"

/// Reading and writing model files (chapter 10): safetensors checkpoints.
namespace gnm::io {

// TensorRecord::data holds little-endian bytes; values<T>() and make_record copy them as they
// are, which is right only on a little-endian host (every machine this book targets).
static_assert(std::endian::native == std::endian::little, "gnm::io assumes a little-endian host");

/// One named tensor as stored in a file: element type, shape and raw little-endian bytes in
/// row-major order. data.size() must equal numel() · dtype_size(dtype).
struct TensorRecord {
  std::string name;                 ///< Unique, non-empty, not "__metadata__".
  DType dtype = DType::f32;         ///< Element type.
  std::vector<std::int64_t> shape;  ///< Dimensions, each ≥ 0; empty for a 0-d scalar.
  std::vector<std::byte> data;      ///< Raw bytes, row-major, little-endian.

  /// Number of elements: the product of shape (1 for a 0-d scalar). Throws gnm::Error on a
  /// negative dimension or when the product overflows.
  std::int64_t numel() const;

  /// The elements as a vector of `T`. Throws gnm::Error unless dtype_of<T>() == dtype (or T is
  /// std::uint8_t and dtype is boolean) and data has numel() · sizeof(T) bytes.
  template <class T>
  std::vector<T> values() const {
    check_element_type(dtype_of<T>(), sizeof(T));
    std::vector<T> out(data.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), data.data(), data.size());
    return out;
  }

  /// Throws gnm::Error unless `t` (of `size` bytes) can view this record's elements.
  void check_element_type(DType t, std::size_t size) const;
};

/// A record named `name` of dtype_of<T>() with the given shape holding a copy of `values`
/// (use DType::boolean via make_record_bytes for masks). Throws gnm::Error when values.size()
/// differs from the shape's element count.
template <class T>
TensorRecord make_record(std::string name, std::vector<std::int64_t> shape,
                         std::span<const T> values) {
  TensorRecord r{std::move(name), dtype_of<T>(), std::move(shape), {}};
  r.data.resize(values.size_bytes());
  if (!values.empty()) std::memcpy(r.data.data(), values.data(), values.size_bytes());
  r.check_element_type(dtype_of<T>(), sizeof(T));
  return r;
}

/// A record of any dtype from raw little-endian bytes. Throws gnm::Error when the byte count does
/// not match the shape.
TensorRecord make_record_bytes(std::string name, DType dtype, std::vector<std::int64_t> shape,
                               std::span<const std::byte> bytes);

/// The contents of a safetensors file.
struct SafetensorsFile {
  std::string source;                           ///< The file it came from (for messages).
  std::map<std::string, std::string> metadata;  ///< The "__metadata__" entries.
  std::vector<TensorRecord> tensors;            ///< Every tensor, sorted by name.

  /// The tensor called `name`, or nullptr.
  const TensorRecord* find(std::string_view name) const;
  /// The tensor called `name`; throws gnm::IoError naming the file, the missing name and (some
  /// of) the names present.
  const TensorRecord& at(std::string_view name) const;
};

/// The complete bytes of a safetensors file holding `tensors` and `metadata`. Throws gnm::Error
/// (naming the tensor) for an empty, duplicate or reserved name, a negative dimension, a byte
/// count that does not match the shape, a boolean byte other than 0 or 1, or a name or metadata
/// string that is not valid UTF-8.
std::string serialize_safetensors(std::span<const TensorRecord> tensors,
                                  const std::map<std::string, std::string>& metadata = {});

/// Writes serialize_safetensors(tensors, metadata) to `path` atomically (temporary file in the
/// same directory, fsync, rename): a reader sees the old file or the new one, and a failure,
/// including a validation error, leaves any old file untouched. Throws gnm::Error for invalid
/// records, gnm::IoError when the file cannot be written.
void write_safetensors(const std::filesystem::path& path, std::span<const TensorRecord> tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Parses and validates the bytes of a safetensors file; `source` names it in error messages.
/// Throws gnm::IoError for anything that is not a well-formed file (see the file comment).
SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view source);

/// Reads and validates a safetensors file (the whole file is read into memory first). Throws
/// gnm::IoError naming the file when it cannot be read or is malformed.
SafetensorsFile read_safetensors(const std::filesystem::path& path);

}  // namespace gnm::io
