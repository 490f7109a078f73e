// safetensors reading and writing (see gnm/io/safetensors.hpp for the format). The header is
// parsed by nlohmann-json's SAX interface into a small tree that keeps keys in file order (so
// duplicates can be reported) and refuses nesting deeper than a valid header needs.
#include "gnm/io/safetensors.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "gnm/core/check.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/json.hpp"

namespace gnm::io {
namespace {

// The reference reader's header limit. A real header is ~80 bytes per tensor, so 100 MB means
// over a million tensors; a larger length field is corruption, not a model.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// A valid header nests root → tensor entry → shape array: depth 3. Deeper input is rejected at
// once, so "[[[[…" cannot build a deep tree (whose destructor would recurse once per level).
constexpr int kMaxDepth = 8;

// Layout rank of each dtype in the reference writer (its Dtype enum order: BOOL < U8 < F16 < BF16
// < I32 < F32 < F64 < I64). It writes the highest rank first, then by name; matching it makes our
// bytes equal to its bytes and keeps every tensor aligned to its element size.
int layout_rank(DType t) {
  switch (t) {
    case DType::boolean: return 0;
    case DType::u8: return 1;
    case DType::f16: return 2;
    case DType::bf16: return 3;
    case DType::i32: return 4;
    case DType::f32: return 5;
    case DType::f64: return 6;
    case DType::i64: return 7;
  }
  return 0;
}

// True when `s` is well-formed UTF-8: no stray continuation bytes, no overlong forms, no
// surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  static constexpr std::uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // The lead byte gives the length; 0x80–0xBF (a continuation) and 0xF8+ cannot lead.
    const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c >= 0xF8) return false;
    std::uint32_t cp = c & (0x7Fu >> len);
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A parsed JSON value. Objects keep their keys in file order; duplicates are found later, where
// the message can say whether a tensor, a field or a metadata key is repeated.
struct Json {
  enum class Kind { null, boolean, integer, real, string, array, object };
  Kind kind = Kind::null;
  std::int64_t integer = 0;
  std::string text;               // a string's value
  std::vector<std::string> keys;  // an object's keys
  std::vector<Json> items;        // an array's elements, or an object's values
};

const char* kind_name(Json::Kind k) {
  switch (k) {
    case Json::Kind::null: return "null";
    case Json::Kind::boolean: return "boolean";
    case Json::Kind::integer: return "integer";
    case Json::Kind::real: return "non-integer number";
    case Json::Kind::string: return "string";
    case Json::Kind::array: return "array";
    case Json::Kind::object: return "object";
  }
  return "?";
}

// Builds a Json tree from nlohmann's SAX events. nlohmann::json itself would do, but its objects
// are sorted maps that silently keep one of two duplicate keys; the header must reject those.
class JsonBuilder {
 public:
  JsonBuilder(Json& root, const std::string& where) : root_(root), where_(where) {}

  bool null() { return add(Json{}); }
  bool boolean(bool) { return add(Json{Json::Kind::boolean, 0, {}, {}, {}}); }
  bool number_integer(std::int64_t v) { return add(Json{Json::Kind::integer, v, {}, {}, {}}); }
  bool number_unsigned(std::uint64_t v) {
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail("the integer " + std::to_string(v) + " is out of range");
    }
    return number_integer(static_cast<std::int64_t>(v));
  }
  bool number_float(double, const std::string&) {
    return add(Json{Json::Kind::real, 0, {}, {}, {}});
  }
  bool string(std::string& v) { return add(Json{Json::Kind::string, 0, std::move(v), {}, {}}); }
  bool binary(nlohmann::json::binary_t&) { return add(Json{}); }  // not produced by the JSON lexer
  bool start_object(std::size_t) { return open(Json::Kind::object); }
  bool start_array(std::size_t) { return open(Json::Kind::array); }
  bool key(std::string& k) {
    stack_.back()->keys.push_back(std::move(k));
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception& ex) {
    // nlohmann's message quotes the last token, which for an unterminated string can be the
    // whole rest of the header: keep the message short.
    std::string why = ex.what();
    if (why.size() > 200) why = why.substr(0, 200) + "…";
    fail("the header is not valid JSON (byte " + std::to_string(position) + "): " + why);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw IoError(where_ + ": " + what); }
  bool add(Json v) {
    if (stack_.empty())
      root_ = std::move(v);
    else
      stack_.back()->items.push_back(std::move(v));
    return true;
  }
  bool open(Json::Kind kind) {
    if (stack_.size() >= static_cast<std::size_t>(kMaxDepth)) {
      fail("the header nests JSON deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    Json v;
    v.kind = kind;
    add(std::move(v));
    // The new container is the last item of its parent (or the root): push a pointer to it. Its
    // parent's items vector may grow later, but only after this container is closed.
    stack_.push_back(stack_.empty() ? &root_ : &stack_.back()->items.back());
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  Json& root_;
  const std::string& where_;
  std::vector<Json*> stack_;
};

[[noreturn]] void corrupt(const std::string& where, const std::string& what) {
  throw IoError(where + ": " + what);
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string offsets_string(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// The first string of `keys` that occurs twice, or nullptr (O(n log n): a header may list
// thousands of tensors).
const std::string* first_duplicate(const std::vector<std::string>& keys) {
  std::vector<const std::string*> sorted;
  sorted.reserve(keys.size());
  for (const auto& k : keys) sorted.push_back(&k);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (*sorted[i] == *sorted[i - 1]) return sorted[i];
  }
  return nullptr;
}

// prod(shape) · element_size in `out`; false when it does not fit in 64 bits. Any zero dimension
// makes the product zero, whatever the others are. Dimensions must be non-negative.
bool checked_byte_count(const std::vector<std::int64_t>& shape, std::size_t element_size,
                        std::uint64_t& out) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    out = 0;
    return true;
  }
  std::uint64_t n = element_size;
  for (const std::int64_t d : shape) {
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) return false;
  }
  out = n;
  return true;
}

// Where one tensor's bytes lie in the buffer.
struct Extent {
  std::uint64_t begin = 0, end = 0;
  std::size_t index = 0;  // into SafetensorsFile::tensors
};

// Fills `rec` (all but data) and `ext` from the header entry `v` of tensor `rec.name`.
void parse_entry(const std::string& where, const Json& v, std::uint64_t buffer_size,
                 TensorRecord& rec, Extent& ext) {
  const std::string t = "tensor " + json_quote(rec.name);
  if (v.kind != Json::Kind::object) {
    corrupt(where, t + " must be described by an object (got " + kind_name(v.kind) + ")");
  }
  if (const auto* d = first_duplicate(v.keys))
    corrupt(where, t + " has the field " + json_quote(*d) + " twice");
  bool have_dtype = false, have_shape = false, have_offsets = false;
  for (std::size_t i = 0; i < v.keys.size(); ++i) {
    const std::string& key = v.keys[i];
    const Json& f = v.items[i];
    if (key == "dtype") {
      if (f.kind != Json::Kind::string)
        corrupt(where, t + ": dtype must be a string (got " + kind_name(f.kind) + ")");
      if (!dtype_from_safetensors_name(f.text, rec.dtype)) {
        corrupt(where, t + " has the unsupported dtype " + json_quote(f.text) +
                           " (supported: F32, F64, F16, BF16, I32, I64, U8, BOOL)");
      }
      have_dtype = true;
    } else if (key == "shape") {
      if (f.kind != Json::Kind::array)
        corrupt(where, t + ": shape must be an array (got " + kind_name(f.kind) + ")");
      for (const Json& d : f.items) {
        if (d.kind != Json::Kind::integer)
          corrupt(where, t + ": shape must hold integers (got " + kind_name(d.kind) + ")");
        if (d.integer < 0)
          corrupt(where,
                  t + " has the negative dimension " + std::to_string(d.integer) + " in its shape");
        rec.shape.push_back(d.integer);
      }
      have_shape = true;
    } else if (key == "data_offsets") {
      const bool ok = f.kind == Json::Kind::array && f.items.size() == 2 &&
                      f.items[0].kind == Json::Kind::integer &&
                      f.items[1].kind == Json::Kind::integer && f.items[0].integer >= 0 &&
                      f.items[1].integer >= 0;
      if (!ok) corrupt(where, t + ": data_offsets must be [begin, end], two non-negative integers");
      ext.begin = static_cast<std::uint64_t>(f.items[0].integer);
      ext.end = static_cast<std::uint64_t>(f.items[1].integer);
      if (ext.end < ext.begin)
        corrupt(where, t + ": data_offsets " + offsets_string(ext.begin, ext.end) +
                           " end before they begin");
      have_offsets = true;
    } else {
      corrupt(where, t + " has the unknown field " + json_quote(key));
    }
  }
  if (!have_dtype) corrupt(where, t + " lacks the field \"dtype\"");
  if (!have_shape) corrupt(where, t + " lacks the field \"shape\"");
  if (!have_offsets) corrupt(where, t + " lacks the field \"data_offsets\"");
  if (ext.end > buffer_size) {
    corrupt(where, t + ": data_offsets " + offsets_string(ext.begin, ext.end) +
                       " reach past the end of the data buffer (" + std::to_string(buffer_size) +
                       " bytes)");
  }
  std::uint64_t need = 0;
  const bool fits = checked_byte_count(rec.shape, dtype_size(rec.dtype), need);
  if (!fits || need != ext.end - ext.begin) {
    corrupt(where, t + " of dtype " + std::string(dtype_safetensors_name(rec.dtype)) +
                       " and shape " + shape_string(rec.shape) + " needs " +
                       (fits ? std::to_string(need) : std::string("over 2^64")) +
                       " bytes, but its data_offsets " + offsets_string(ext.begin, ext.end) +
                       " hold " + std::to_string(ext.end - ext.begin));
  }
}

// The reference reader's rule: sorted by offset, the tensors tile [0, buffer_size) exactly.
void check_coverage(const std::string& where, std::vector<Extent> extents,
                    const std::vector<TensorRecord>& tensors, std::uint64_t buffer_size) {
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  const TensorRecord* previous = nullptr;
  for (const Extent& e : extents) {
    const TensorRecord& r = tensors[e.index];
    if (e.begin > covered) {
      corrupt(where, "bytes " + offsets_string(covered, e.begin) +
                         " of the data buffer belong to no tensor (a gap before " +
                         json_quote(r.name) + ")");
    }
    if (e.begin < covered) {
      corrupt(where, "tensor " + json_quote(r.name) + " at " + offsets_string(e.begin, e.end) +
                         " overlaps tensor " + json_quote(previous->name) + " (which ends at " +
                         std::to_string(covered) + ")");
    }
    covered = e.end;
    previous = &r;
  }
  if (covered != buffer_size) {
    corrupt(where, "the data buffer has " + std::to_string(buffer_size) +
                       " bytes but the tensors cover only " + std::to_string(covered) +
                       ": trailing bytes belong to no tensor");
  }
}

void check_record(const TensorRecord& r) {
  GNM_CHECK(!r.name.empty(), "a tensor name must not be empty");
  GNM_CHECK(r.name != "__metadata__", "this name is reserved for the file's metadata", r.name);
  GNM_CHECK(valid_utf8(r.name), "a tensor name must be valid UTF-8", json_quote(r.name));
  (void)r.numel();  // rejects negative dimensions and overflow, naming the tensor
  std::uint64_t need = 0;
  GNM_CHECK(checked_byte_count(r.shape, dtype_size(r.dtype), need) && need == r.data.size(),
            "the byte count does not match the shape and dtype", r.name, shape_string(r.shape),
            r.dtype, r.data.size());
  if (r.dtype == DType::boolean) {
    for (std::size_t i = 0; i < r.data.size(); ++i) {
      const auto b = static_cast<unsigned>(r.data[i]);
      GNM_CHECK(b <= 1, "a bool tensor may hold only the bytes 0 and 1", r.name, i, b);
    }
  }
}

}  // namespace

std::int64_t TensorRecord::numel() const {
  std::int64_t n = 1;
  for (const std::int64_t d : shape)
    GNM_CHECK(d >= 0, "a dimension is negative", name, shape_string(shape));
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  for (const std::int64_t d : shape) {
    GNM_CHECK(!__builtin_mul_overflow(n, d, &n), "the element count overflows", name,
              shape_string(shape));
  }
  return n;
}

void TensorRecord::check_element_type(DType t, std::size_t size) const {
  GNM_CHECK(t == dtype || (t == DType::u8 && dtype == DType::boolean),
            "the element type does not match the tensor's dtype", name, dtype, t);
  std::uint64_t need = 0;
  GNM_CHECK(checked_byte_count(shape, size, need) && need == data.size(),
            "the byte count does not match the shape", name, shape_string(shape), data.size());
}

TensorRecord make_record_bytes(std::string name, DType dtype, std::vector<std::int64_t> shape,
                               std::span<const std::byte> bytes) {
  TensorRecord r{std::move(name), dtype, std::move(shape), {bytes.begin(), bytes.end()}};
  r.check_element_type(dtype, dtype_size(dtype));
  return r;
}

const TensorRecord* SafetensorsFile::find(std::string_view name) const {
  const auto it =
      std::lower_bound(tensors.begin(), tensors.end(), name,
                       [](const TensorRecord& r, std::string_view n) { return r.name < n; });
  return it != tensors.end() && it->name == name ? &*it : nullptr;
}

const TensorRecord& SafetensorsFile::at(std::string_view name) const {
  if (const TensorRecord* r = find(name)) return *r;
  constexpr std::size_t kListed = 8;
  std::string present;
  for (std::size_t i = 0; i < tensors.size() && i < kListed; ++i)
    present += (i ? ", " : "") + json_quote(tensors[i].name);
  if (tensors.size() > kListed) present += ", … (" + std::to_string(tensors.size()) + " in all)";
  throw IoError("safetensors file '" + source + "' has no tensor " + json_quote(name) +
                (tensors.empty() ? std::string("; it holds no tensors") : "; it holds " + present));
}

std::string serialize_safetensors(std::span<const TensorRecord> tensors,
                                  const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorRecord*> order;
  for (const TensorRecord& r : tensors) {
    check_record(r);
    order.push_back(&r);
  }
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    GNM_CHECK(order[i]->name != order[i - 1]->name, "two tensors have the same name",
              order[i]->name);
  }
  for (const auto& [k, v] : metadata) {
    GNM_CHECK(valid_utf8(k) && valid_utf8(v), "metadata must be valid UTF-8", json_quote(k),
              json_quote(v));
  }
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return layout_rank(a->dtype) > layout_rank(b->dtype);
  });

  // Compact JSON, "__metadata__" first, like the reference writer.
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [k, v] : metadata)
      header += (header.back() == '{' ? "" : ",") + json_quote(k) + ":" + json_quote(v);
    header += "}";
  }
  std::uint64_t offset = 0;
  for (const TensorRecord* r : order) {
    header += (header.size() > 1 ? "," : "") + json_quote(r->name) + ":{\"dtype\":\"" +
              std::string(dtype_safetensors_name(r->dtype)) + "\",\"shape\":[";
    for (std::size_t i = 0; i < r->shape.size(); ++i)
      header += (i ? "," : "") + std::to_string(r->shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + r->data.size()) + "]}";
    offset += r->data.size();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // 8 + N a multiple of 8: aligned buffer
  GNM_CHECK(header.size() <= kMaxHeaderBytes, "the header exceeds the format's 100 MB limit",
            header.size());

  std::string out;
  out.reserve(8 + header.size() + offset);
  for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((header.size() >> (8 * b)) & 0xFF));
  out += header;
  for (const TensorRecord* r : order)
    out.append(reinterpret_cast<const char*>(r->data.data()), r->data.size());
  return out;
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorRecord> tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Everything is validated and serialised before the file system is touched, so a bad record
  // leaves an existing file as it was; write_file_atomic then never exposes a partial file.
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

SafetensorsFile parse_safetensors(std::string_view bytes, std::string_view source) {
  const std::string where = "safetensors file '" + std::string(source) + "'";
  if (bytes.size() < 8) {
    corrupt(where, "the file is " + std::to_string(bytes.size()) +
                       " bytes long, shorter than the 8-byte header length field");
  }
  std::uint64_t n = 0;
  for (int b = 7; b >= 0; --b)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(b)]);
  if (n > kMaxHeaderBytes) {
    corrupt(where, "the header length field says " + std::to_string(n) +
                       " bytes, over the format's 100 MB limit (a corrupt length field?)");
  }
  if (n > bytes.size() - 8) {
    corrupt(where, "the header length field says " + std::to_string(n) + " bytes, but only " +
                       std::to_string(bytes.size() - 8) + " follow it (a truncated file?)");
  }
  const std::string_view header = bytes.substr(8, n);
  const std::string_view buffer = bytes.substr(8 + n);
  if (header.empty() || header.front() != '{') corrupt(where, "the header does not start with '{'");
  if (!valid_utf8(header)) corrupt(where, "the header is not valid UTF-8");
  Json root;
  JsonBuilder builder(root, where);
  nlohmann::json::sax_parse(header.begin(), header.end(), &builder);

  if (const auto* d = first_duplicate(root.keys))
    corrupt(where, "the header lists " + json_quote(*d) + " twice");
  SafetensorsFile out;
  out.source = std::string(source);
  std::vector<Extent> extents;
  for (std::size_t i = 0; i < root.keys.size(); ++i) {
    const std::string& key = root.keys[i];
    const Json& v = root.items[i];
    if (key == "__metadata__") {
      if (v.kind != Json::Kind::object)
        corrupt(where,
                "\"__metadata__\" must be an object (got " + std::string(kind_name(v.kind)) + ")");
      if (const auto* d = first_duplicate(v.keys))
        corrupt(where, "the metadata key " + json_quote(*d) + " appears twice");
      for (std::size_t j = 0; j < v.keys.size(); ++j) {
        if (v.items[j].kind != Json::Kind::string) {
          corrupt(where, "the metadata value of " + json_quote(v.keys[j]) +
                             " must be a string (got " + kind_name(v.items[j].kind) + ")");
        }
        out.metadata.emplace(v.keys[j], v.items[j].text);
      }
      continue;
    }
    if (key.empty()) corrupt(where, "a tensor has an empty name");
    out.tensors.push_back(TensorRecord{key, DType::f32, {}, {}});
    Extent e;
    e.index = out.tensors.size() - 1;
    parse_entry(where, v, buffer.size(), out.tensors.back(), e);
    extents.push_back(e);
  }
  check_coverage(where, extents, out.tensors, buffer.size());

  for (const Extent& e : extents) {
    TensorRecord& r = out.tensors[e.index];
    const auto* first = reinterpret_cast<const std::byte*>(buffer.data()) + e.begin;
    r.data.assign(first, first + (e.end - e.begin));
    if (r.dtype != DType::boolean) continue;
    for (std::size_t i = 0; i < r.data.size(); ++i) {
      if (static_cast<unsigned>(r.data[i]) > 1) {
        corrupt(where, "bool tensor " + json_quote(r.name) + " holds the byte " +
                           std::to_string(static_cast<unsigned>(r.data[i])) + " at element " +
                           std::to_string(i) + " (must be 0 or 1)");
      }
    }
  }
  std::sort(out.tensors.begin(), out.tensors.end(),
            [](const TensorRecord& a, const TensorRecord& b) { return a.name < b.name; });
  return out;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  return parse_safetensors(bytes, path.string());
}

}  // namespace gnm::io
