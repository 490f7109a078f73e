// gnm::io safetensors: round trips of every dtype, the exact byte layout, validation of every
// kind of corruption (each an IoError naming the file), a fuzz loop, atomic writes, and
// interoperability with PyTorch's writer (tests/fixtures/ch10/interop_torch.safetensors, made by
// scripts/fixtures/ch10_safetensors_interop.py).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <typeinfo>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/half.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/io/safetensors.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using gnm::DType;
using gnm::io::TensorRecord;

namespace {

fs::path scratch_dir() { return gnm::testing::scratch_dir("safetensors"); }
using gnm::testing::write_raw;

template <class T>
std::vector<std::byte> le_bytes(std::initializer_list<T> values) {
  std::vector<std::byte> b(values.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), std::data(values), b.size());
  return b;
}

// Philox bytes for a tensor of `dtype` and `shape` (bool: 0 or 1).
TensorRecord random_record(std::string name, DType dtype, std::vector<std::int64_t> shape,
                           std::uint64_t seed) {
  TensorRecord r{std::move(name), dtype, std::move(shape), {}};
  r.data.resize(static_cast<std::size_t>(r.numel()) * gnm::dtype_size(dtype));
  const gnm::PhiloxRng rng(seed);
  for (std::size_t i = 0; i < r.data.size(); ++i) {
    const std::uint32_t bits = rng.bits(i);
    r.data[i] = static_cast<std::byte>(dtype == DType::boolean ? bits & 1 : bits & 0xFF);
  }
  return r;
}

void expect_same(const TensorRecord& got, const TensorRecord& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.dtype, want.dtype) << want.name;
  EXPECT_EQ(got.shape, want.shape) << want.name;
  EXPECT_TRUE(got.data == want.data) << want.name;
}

// Parses `bytes` from a file and expects an IoError whose message names the file and contains
// `what`.
void expect_corrupt(const std::string& bytes, const std::string& what, const std::string& label) {
  const fs::path p =
      fs::temp_directory_path() / ("gnm_st_corrupt_" + std::to_string(::getpid()) + ".safetensors");
  write_raw(p, bytes);
  try {
    (void)gnm::io::read_safetensors(p);
    ADD_FAILURE() << label << ": no error for a corrupt file";
  } catch (const gnm::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p.string()), std::string::npos) << label << ": " << msg;
    EXPECT_NE(msg.find(what), std::string::npos)
        << label << ": expected '" << what << "' in: " << msg;
  }
  fs::remove(p);
}

// A file with this header text (no padding) and a buffer of `buffer_bytes` zero bytes.
std::string file_with_header(const std::string& json, std::size_t buffer_bytes) {
  std::string out;
  for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((json.size() >> (8 * b)) & 0xFF));
  return out + json + std::string(buffer_bytes, '\0');
}

std::vector<TensorRecord> sample_records() {
  return {random_record("layer.weight", DType::f32, {3, 5}, 1),
          random_record("layer.bias", DType::bf16, {5}, 2),
          random_record("step", DType::i64, {}, 3), random_record("mask", DType::boolean, {7}, 4),
          random_record("empty", DType::f16, {0, 4}, 5)};
}

fs::path interop_fixture() { return gnm::testing::fixture_path("ch10/interop_torch.safetensors"); }

// The tensors of scripts/fixtures/ch10_safetensors_interop.py, written out by hand (half and
// bfloat16 as bit patterns; the test below checks what they decode to).
std::vector<TensorRecord> interop_records() {
  using gnm::io::make_record;
  using gnm::io::make_record_bytes;
  return {
      make_record<float>("weight", {2, 3},
                         std::vector<float>{0.5f, -1.25f, 3.0f, 1024.0f, -0.0f, 1.0e-3f}),
      make_record_bytes("half", DType::f16, {4},
                        le_bytes<std::uint16_t>({0x3C00, 0xC000, 0x3800, 0x7BFF})),
      make_record_bytes("bfloat", DType::bf16, {2, 2},
                        le_bytes<std::uint16_t>({0x3F80, 0xC060, 0x3C00, 0x4380})),
      make_record<double>("double", {2}, std::vector<double>{0.1, -2.5}),
      make_record<std::int32_t>("ids", {3}, std::vector<std::int32_t>{-7, 0, 2147483647}),
      make_record<std::int64_t>("labels", {5},
                                std::vector<std::int64_t>{0, -1, 9, 1LL << 40, -(1LL << 62)}),
      make_record_bytes("mask", DType::boolean, {3}, le_bytes<std::uint8_t>({1, 0, 1})),
      make_record<std::uint8_t>("pixels", {2, 2}, std::vector<std::uint8_t>{0, 7, 128, 255}),
      make_record<float>("scale", {}, std::vector<float>{0.25f}),
      make_record<float>("empty", {0, 3}, std::vector<float>{}),
  };
}

}  // namespace

TEST(Safetensors, InteropReadsTheFileOfPyTorchsWriter) {
  const auto file = gnm::io::read_safetensors(interop_fixture());
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  const auto want = interop_records();
  ASSERT_EQ(file.tensors.size(), want.size());
  for (const auto& r : want) expect_same(file.at(r.name), r);
  // The hand-written bit patterns decode to the script's values.
  const auto half = file.at("half").values<gnm::f16>();
  const auto bf = file.at("bfloat").values<gnm::bf16>();
  const float half_want[] = {1.0f, -2.0f, 0.5f, 65504.0f};
  const float bf_want[] = {1.0f, -3.5f, 0.0078125f, 256.0f};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(static_cast<float>(half[static_cast<std::size_t>(i)]), half_want[i]);
    EXPECT_EQ(static_cast<float>(bf[static_cast<std::size_t>(i)]), bf_want[i]);
  }
  const std::vector<float> weight = file.at("weight").values<float>();
  ASSERT_EQ(weight.size(), 6u);
  EXPECT_TRUE(std::signbit(weight.at(4)));  // -0.0 kept
  EXPECT_EQ(file.at("scale").numel(), 1);
  EXPECT_TRUE(file.at("scale").shape.empty());
}

// Our writer, given the same tensors, produces PyTorch's bytes exactly. With
// GNM_SAFETENSORS_INTEROP_OUT=FILE the file is also written there, for
//   /opt/gnm-torch/bin/python scripts/fixtures/ch10_safetensors_interop.py --check-ours FILE
TEST(Safetensors, InteropWritesTheBytesOfPyTorchsWriter) {
  const auto records = interop_records();
  const std::map<std::string, std::string> meta = {{"format", "pt"}};
  EXPECT_TRUE(gnm::io::serialize_safetensors(records, meta) == gnm::read_file(interop_fixture()));
  if (const char* out = std::getenv("GNM_SAFETENSORS_INTEROP_OUT")) {
    gnm::io::write_safetensors(out, records, meta);
  }
}

TEST(Safetensors, RoundTripsEveryDtypeAndShape) {
  const fs::path dir = scratch_dir();
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {0}, {1}, {7}, {3, 0, 2}, {2, 3, 5}};
  std::vector<TensorRecord> records;
  for (int t = 0; t < gnm::kNumDTypes; ++t) {
    for (std::size_t s = 0; s < shapes.size(); ++s) {
      const auto dtype = static_cast<DType>(t);
      records.push_back(random_record(std::string(gnm::dtype_name(dtype)) + "_" + std::to_string(s),
                                      dtype, shapes[s], 100 * t + s));
    }
  }
  gnm::io::write_safetensors(dir / "all.safetensors", records);
  const auto file = gnm::io::read_safetensors(dir / "all.safetensors");
  ASSERT_EQ(file.tensors.size(), records.size());
  EXPECT_TRUE(file.metadata.empty());
  for (const auto& r : records) expect_same(file.at(r.name), r);
  // tensors come back sorted by name
  for (std::size_t i = 1; i < file.tensors.size(); ++i) {
    EXPECT_LT(file.tensors[i - 1].name, file.tensors[i].name);
  }
  fs::remove_all(dir);
}

TEST(Safetensors, MetadataRoundTripsIncludingEscapesAndUnicode) {
  const fs::path dir = scratch_dir();
  const std::map<std::string, std::string> meta = {
      {"format", "pt"},
      {"quote\"back\\slash", "line\nbreak\ttab\x01"},
      {"\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87", "\xF0\x9F\x98\x80 emoji"},  // "ключ", U+1F600
      {"empty", ""}};
  const auto records = sample_records();
  gnm::io::write_safetensors(dir / "m.safetensors", records, meta);
  const auto file = gnm::io::read_safetensors(dir / "m.safetensors");
  EXPECT_EQ(file.metadata, meta);
  for (const auto& r : records) expect_same(file.at(r.name), r);
  fs::remove_all(dir);
}

TEST(Safetensors, HeaderLayoutMatchesAHandBuiltFile) {
  const std::vector<TensorRecord> records = {
      gnm::io::make_record_bytes("b", DType::u8, {3}, le_bytes<std::uint8_t>({1, 2, 3})),
      gnm::io::make_record<float>("a", {2}, std::vector<float>{1.0f, -2.0f}),
      gnm::io::make_record<std::int64_t>("c", {}, std::vector<std::int64_t>{-5})};
  const std::string got = gnm::io::serialize_safetensors(records, {{"k", "v"}});
  // Highest layout rank first (I64, then F32, then U8), like the reference writer; padded with
  // spaces so that 8 + N is a multiple of 8.
  std::string header =
      R"({"__metadata__":{"k":"v"},"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
      R"("b":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}})";
  ASSERT_EQ(header.size(), 186u);
  header += "      ";  // 192 = 24 · 8
  std::string want = std::string("\xC0\0\0\0\0\0\0\0", 8) + header;
  const std::int64_t c = -5;
  const float a[2] = {1.0f, -2.0f};
  want.append(reinterpret_cast<const char*>(&c), 8);
  want.append(reinterpret_cast<const char*>(a), 8);
  want += "\x01\x02\x03";
  EXPECT_EQ(got, want);
  // No tensors, no metadata: "{}" and six spaces.
  EXPECT_EQ(gnm::io::serialize_safetensors({}), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
}

TEST(Safetensors, TypedAccessAndLookupErrors) {
  const std::vector<float> w = {1.5f, -2.0f, 0.25f, 8.0f, 3.0f, -0.5f};
  const auto rec = gnm::io::make_record<float>("w", {2, 3}, w);
  EXPECT_EQ(rec.numel(), 6);
  EXPECT_EQ(rec.values<float>(), w);
  EXPECT_THROW((void)rec.values<std::int32_t>(), gnm::Error);  // same size, wrong dtype
  EXPECT_THROW((void)gnm::io::make_record<float>("w", {4}, w), gnm::Error);
  EXPECT_THROW((void)gnm::io::make_record_bytes("x", DType::i32, {2}, le_bytes<std::uint8_t>({1})),
               gnm::Error);
  const auto mask =
      gnm::io::make_record_bytes("m", DType::boolean, {2}, le_bytes<std::uint8_t>({1, 0}));
  EXPECT_EQ(mask.values<std::uint8_t>(), (std::vector<std::uint8_t>{1, 0}));

  const auto file = gnm::io::parse_safetensors(gnm::io::serialize_safetensors(sample_records()),
                                               "memory.safetensors");
  EXPECT_NE(file.find("layer.bias"), nullptr);
  EXPECT_EQ(file.find("layer.bia"), nullptr);
  try {
    (void)file.at("layer.wieght");
    FAIL();
  } catch (const gnm::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("memory.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"layer.wieght\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"layer.weight\""), std::string::npos) << msg;  // lists what is there
  }
}

TEST(Safetensors, WriterRejectsInvalidRecords) {
  auto ok = [] { return gnm::io::make_record<float>("a", {1}, std::vector<float>{1.0f}); };
  auto with = [&](auto change) {
    std::vector<TensorRecord> r = {ok(), ok()};
    r[1].name = "b";
    change(r[1]);
    return r;
  };
  const std::vector<std::vector<TensorRecord>> bad = {
      with([](TensorRecord& r) { r.name = ""; }),
      with([](TensorRecord& r) { r.name = "__metadata__"; }),
      with([](TensorRecord& r) { r.name = "a"; }),  // duplicate
      with([](TensorRecord& r) { r.name = "bad\xFFutf8"; }),
      with([](TensorRecord& r) { r.shape = {2}; }),  // 4 bytes for 2 floats
      with([](TensorRecord& r) { r.shape = {-1}; }),
      with([](TensorRecord& r) {
        r.shape = {1LL << 40, 1LL << 40};
      }),  // overflows
      with([](TensorRecord& r) {
        r.dtype = DType::boolean;
        r.shape = {4};
        r.data[2] = std::byte{2};  // a bool must be 0 or 1
      }),
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    EXPECT_THROW((void)gnm::io::serialize_safetensors(bad[i]), gnm::Error) << "case " << i;
  }
  EXPECT_THROW((void)gnm::io::serialize_safetensors(std::vector<TensorRecord>{ok()},
                                                    {{"k", "\xC0\xAF"}}),  // overlong UTF-8
               gnm::Error);
}

TEST(Safetensors, FailedWritesLeaveTheOldFileAndNoTemporary) {
  const fs::path dir = scratch_dir();
  const fs::path p = dir / "ckpt.safetensors";
  const auto records = sample_records();
  gnm::io::write_safetensors(p, records, {{"step", "1"}});
  const std::string before = gnm::read_file(p);
  auto entries = [&] {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
  };

  // A validation error: nothing is written.
  std::vector<TensorRecord> invalid = records;
  invalid[0].data.pop_back();
  EXPECT_THROW(gnm::io::write_safetensors(p, invalid), gnm::Error);
  EXPECT_EQ(gnm::read_file(p), before);
  EXPECT_EQ(entries(), 1);

  // A failure half-way through writing: a file-size limit makes write() fail with EFBIG after
  // the first 4 KiB of a 64 KiB file (SIGXFSZ ignored so the process survives).
  {
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    const std::vector<TensorRecord> big = {random_record("big", DType::f32, {128, 128}, 9)};
    EXPECT_THROW(gnm::io::write_safetensors(p, big), gnm::IoError);
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
  EXPECT_EQ(gnm::read_file(p), before);
  EXPECT_EQ(entries(), 1);
  const auto file = gnm::io::read_safetensors(p);
  EXPECT_EQ(file.metadata.at("step"), "1");
  fs::remove_all(dir);
}

TEST(Safetensors, MissingFileIsAnIoErrorNamingIt) {
  const fs::path p = scratch_dir() / "nope.safetensors";
  try {
    (void)gnm::io::read_safetensors(p);
    FAIL();
  } catch (const gnm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

TEST(Safetensors, EveryTruncationIsAnIoError) {
  const std::string good = gnm::io::serialize_safetensors(sample_records(), {{"k", "v"}});
  for (std::size_t len = 0; len < good.size(); ++len) {
    const std::string what = len < 8 ? "shorter than the 8-byte" : "";
    expect_corrupt(good.substr(0, len), what, "truncated to " + std::to_string(len));
  }
}

TEST(Safetensors, CorruptLengthFieldAndHeaderAreIoErrors) {
  std::string good = gnm::io::serialize_safetensors(sample_records());
  std::string huge = good;
  huge[5] = '\x01';  // N ≈ 2^40
  expect_corrupt(huge, "100 MB limit", "absurd header length");
  std::string longer = good;
  longer[0] = static_cast<char>(static_cast<unsigned char>(longer[0]) + 1);
  longer[1] = '\x40';  // N ≈ 16 KB, beyond the file
  expect_corrupt(longer, "follow it", "header length beyond the file");
  std::string bracket = good;
  bracket[8] = '[';
  expect_corrupt(bracket, "does not start with '{'", "header starts with [");
  expect_corrupt(file_with_header("", 0), "does not start with '{'", "empty header");
  std::string quote = good;
  quote[9] = 'x';  // {x"layer...
  expect_corrupt(quote, "not valid JSON", "broken key");
  expect_corrupt(file_with_header("{} x", 0), "not valid JSON", "junk after the object");
  expect_corrupt(file_with_header("{\"a\xFF\":1}", 0), "not valid UTF-8", "invalid UTF-8");
  expect_corrupt(file_with_header(R"({"a":[[[[[[[[[[1]]]]]]]]]]})", 0), "deeper than",
                 "deep nesting");
}

TEST(Safetensors, InvalidTensorEntriesAreIoErrors) {
  struct Case {
    const char* json;
    std::size_t buffer;
    const char* what;
  };
  const Case cases[] = {
      {R"({"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}})", 2, "unsupported dtype \"I8\""},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "negative dimension -2"},
      {R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8, "must hold integers"},
      {R"({"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}})", 8,
       "must hold integers"},
      {R"({"a":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8]}})", 8,
       "out of range"},
      {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8,
       "over 2^64"},
      {R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", 8, "must be an array"},
      {R"({"a":{"dtype":5,"shape":[2],"data_offsets":[0,8]}})", 8, "must be a string"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "end before they begin"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}})", 8, "[begin, end]"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}})", 8, "[begin, end]"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", 8, "reach past the end"},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "needs 12 bytes"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
       20, "a gap before \"b\""},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, "a gap before \"a\""},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12, "trailing bytes"},
      {R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
       R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
       2, "lists \"a\" twice"},
      {R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1, "empty name"},
      {R"({"a":5})", 0, "must be described by an object"},
      {R"({"a":{"shape":[1],"data_offsets":[0,1]}})", 1, "lacks the field \"dtype\""},
      {R"({"a":{"dtype":"U8","data_offsets":[0,1]}})", 1, "lacks the field \"shape\""},
      {R"({"a":{"dtype":"U8","shape":[1]}})", 1, "lacks the field \"data_offsets\""},
      {R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":0}})", 1, "unknown field \"x\""},
      {R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1,
       "field \"dtype\" twice"},
      {R"({"__metadata__":{"k":1}})", 0, "metadata value of \"k\" must be a string"},
      {R"({"__metadata__":["k"]})", 0, "\"__metadata__\" must be an object"},
      {R"({"__metadata__":{"k":"v","k":"w"}})", 0, "metadata key \"k\" appears twice"},
      {R"({"__metadata__":{},"__metadata__":{}})", 0, "lists \"__metadata__\" twice"},
  };
  for (const Case& c : cases) expect_corrupt(file_with_header(c.json, c.buffer), c.what, c.json);

  // A bool tensor holding a byte other than 0 or 1.
  std::string flag =
      file_with_header(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", 0);
  flag += std::string("\x01\x02\x00", 3);
  expect_corrupt(flag, "holds the byte 2 at element 1", "bool byte 2");
  // Headers that are fine: zero-size tensors anywhere, unpadded header, no tensors at all.
  const std::string fine =
      file_with_header(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                       R"("a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                       R"("z":{"dtype":"F64","shape":[3,0],"data_offsets":[2,2]}})",
                       2);
  EXPECT_EQ(gnm::io::parse_safetensors(fine, "fine").tensors.size(), 3u);
  EXPECT_TRUE(gnm::io::parse_safetensors(file_with_header("{}", 0), "none").tensors.empty());
}

// Random truncations, byte flips, insertions and length-field edits of a valid file: the reader
// must either succeed with self-consistent records or throw gnm::IoError; nothing else.
TEST(Safetensors, FuzzedFilesOnlyEverThrowIoError) {
  const std::string good = gnm::io::serialize_safetensors(sample_records(), {{"k", "v"}});
  const std::size_t header_end = 8 + static_cast<unsigned char>(good[0]);
  int accepted = 0, rejected = 0;
  for (std::uint64_t seed = 0; seed < 4000; ++seed) {
    const gnm::PhiloxRng rng(seed, /*subsequence=*/77);
    std::string s = good;
    std::uint64_t i = 0;
    auto pick = [&](std::size_t n) { return n == 0 ? 0 : rng.bits(i++) % n; };
    const unsigned kind = rng.bits(i++) % 4;
    const std::size_t edits = 1 + pick(4);
    for (std::size_t e = 0; e < edits && !s.empty(); ++e) {
      // Most edits land in the header, where the parser has decisions to make.
      const std::size_t pos =
          rng.bits(i++) % 4 != 0 ? pick(std::min(header_end, s.size())) : pick(s.size());
      if (kind == 0) s.resize(pick(s.size()));
      if (kind == 1) s[pos] = static_cast<char>(s[pos] ^ static_cast<char>(1 + pick(255)));
      if (kind == 2) s.insert(pos, 1, "{}[]\",:0-9 e\\u"[pick(15)]);
      if (kind == 3 && s.size() >= 8) s[pick(8)] = static_cast<char>(pick(256));
    }
    try {
      const auto f = gnm::io::parse_safetensors(s, "fuzz.safetensors");
      for (const auto& r : f.tensors) {
        ASSERT_EQ(r.data.size(), static_cast<std::size_t>(r.numel()) * gnm::dtype_size(r.dtype));
      }
      ++accepted;
    } catch (const gnm::IoError& e) {
      ASSERT_NE(std::string(e.what()).find("fuzz.safetensors"), std::string::npos) << e.what();
      ++rejected;
    } catch (const std::exception& e) {
      FAIL() << "seed " << seed << ": " << typeid(e).name() << ": " << e.what();
    }
  }
  EXPECT_GT(rejected, 1000);
  std::printf("fuzz: %d mutated files accepted, %d rejected\n", accepted, rejected);
}
