// gnm::data IDX files and MNIST-style splits: round trips (plain and gzip), the byte format, every
// kind of corruption as an IoError naming the file, a fuzz loop, the split loader on generated
// files, and (when Debian's dataset-fashion-mnist is installed) the real Fashion-MNIST.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/data/idx.hpp"
#include "scratch.hpp"

#if __has_include(<zlib.h>)
#include <zlib.h>
#define GNM_TEST_ZLIB 1
#else
#define GNM_TEST_ZLIB 0
#endif

namespace fs = std::filesystem;
using gnm::data::IdxArray;

namespace {

fs::path scratch_dir() { return gnm::testing::scratch_dir("idx"); }
using gnm::testing::write_raw;

IdxArray random_array(std::vector<std::uint32_t> dims, std::uint64_t seed) {
  IdxArray a{std::move(dims), {}};
  std::size_t n = 1;
  for (const auto d : a.dims) n *= d;
  const gnm::PhiloxRng rng(seed);
  for (std::size_t i = 0; i < n; ++i) a.data.push_back(static_cast<std::uint8_t>(rng.bits(i)));
  return a;
}

// The IDX bytes of a header (magic type/ndim and big-endian dims) followed by `data`.
std::string idx_bytes(unsigned type, std::vector<std::uint32_t> dims, const std::string& data) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (const auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      s.push_back(static_cast<char>((d >> shift) & 0xFF));
  }
  return s + data;
}

#if GNM_TEST_ZLIB
// One gzip member holding `raw`.
std::string gzip(const std::string& raw) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, raw.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
#endif

// Expects read_idx(`p`) to throw an IoError naming `p` and containing `what`.
void expect_corrupt(const fs::path& p, const std::string& what) {
  try {
    (void)gnm::data::read_idx(p);
    ADD_FAILURE() << p << ": no error, expected '" << what << "'";
  } catch (const gnm::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
  }
}

void expect_corrupt_bytes(const fs::path& dir, const std::string& bytes, const std::string& what) {
  const fs::path p = dir / "bad-idx-ubyte";
  write_raw(p, bytes);
  expect_corrupt(p, what);
}

}  // namespace

TEST(Idx, RoundTripsPlainAndGzip) {
  const fs::path dir = scratch_dir();
  const std::vector<std::vector<std::uint32_t>> shapes = {
      {0}, {1}, {13}, {7, 3}, {5, 28, 28}, {2, 3, 1, 5}, {3, 0, 4}, {1000, 97}};
  for (std::size_t s = 0; s < shapes.size(); ++s) {
    const IdxArray a = random_array(shapes[s], s);
    for (const bool gz : {false, true}) {
      const fs::path p = dir / ("a" + std::to_string(s) + (gz ? ".gz" : ""));
      if (gz && !gnm::data::idx_gzip_supported()) {
        EXPECT_THROW(gnm::data::write_idx(p, a, true), gnm::NotImplemented);
        continue;
      }
      gnm::data::write_idx(p, a, gz);
      const IdxArray b = gnm::data::read_idx(p);
      EXPECT_EQ(b.dims, a.dims) << p;
      EXPECT_EQ(b.data, a.data) << p;
      EXPECT_EQ(gnm::read_file(p).substr(0, 2) == "\x1f\x8b", gz) << p;
    }
  }
  fs::remove_all(dir);
}

TEST(Idx, WritesTheFormatByteForByte) {
  const fs::path dir = scratch_dir();
  gnm::data::write_idx(dir / "x", IdxArray{{2, 3}, {0, 1, 2, 3, 4, 255}}, false);
  EXPECT_EQ(gnm::read_file(dir / "x"),
            std::string("\0\0\x08\x02\0\0\0\x02\0\0\0\x03\0\x01\x02\x03\x04\xFF", 18));
  // Invalid arrays are refused before anything is written.
  EXPECT_THROW(gnm::data::write_idx(dir / "y", IdxArray{{}, {}}, false), gnm::Error);
  EXPECT_THROW(gnm::data::write_idx(dir / "y", IdxArray{{1, 1, 1, 1, 1}, {7}}, false), gnm::Error);
  EXPECT_THROW(gnm::data::write_idx(dir / "y", IdxArray{{2, 2}, {1, 2, 3}}, false), gnm::Error);
  EXPECT_FALSE(fs::exists(dir / "y"));
  fs::remove_all(dir);
}

TEST(Idx, CorruptPlainFilesAreIoErrorsNamingTheFile) {
  const fs::path dir = scratch_dir();
  expect_corrupt(dir / "missing-idx1-ubyte", "cannot open");
  expect_corrupt(dir, "not a regular file");
  expect_corrupt_bytes(dir, "", "shorter than the 4-byte IDX magic");
  expect_corrupt_bytes(dir, std::string("\0\0\x08", 3), "shorter than the 4-byte IDX magic");
  expect_corrupt_bytes(dir, std::string("\x01\0\x08\x01\0\0\0\x01\x07", 9), "bad magic 0x01 0x00");
  expect_corrupt_bytes(dir, idx_bytes(0x0B, {2}, std::string(4, '\0')),
                       "unsupported IDX element type 0x0B (int16)");
  expect_corrupt_bytes(dir, idx_bytes(0x0D, {1}, std::string(4, '\0')),
                       "unsupported IDX element type 0x0D (float32)");
  expect_corrupt_bytes(dir, idx_bytes(0x05, {1}, "x"), "unknown IDX element type 0x05");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {}, ""), "gives 0 dimensions");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {1, 1, 1, 1, 1}, "x"), "gives 5 dimensions");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {2, 3, 4}, "").substr(0, 9),
                       "ends inside its dimensions");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {2, 3}, "12345"), "the data is truncated");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {2, 3}, "1234567"), "too long");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {100000, 100000}, "x"), "more than 10^9 elements");
  expect_corrupt_bytes(dir, idx_bytes(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, ""),
                       "more than 10^9 elements");
  fs::remove_all(dir);
}

TEST(Idx, CorruptGzipFilesAreIoErrorsNamingTheFile) {
  if (!gnm::data::idx_gzip_supported()) {
    expect_corrupt_bytes(scratch_dir(), std::string("\x1f\x8b\x08\0", 4), "no zlib");
    GTEST_SKIP() << "this build has no zlib";
  }
#if GNM_TEST_ZLIB
  const fs::path dir = scratch_dir();
  const std::string raw = idx_bytes(0x08, {50, 40}, std::string(2000, 'q') + "");
  const std::string gz = gzip(raw);
  expect_corrupt_bytes(dir, gz.substr(0, gz.size() / 2), "truncated");
  expect_corrupt_bytes(dir, gz.substr(0, gz.size() - 3), "truncated");  // inside the trailer
  std::string flipped = gz;
  flipped[gz.size() - 6] = static_cast<char>(flipped[gz.size() - 6] ^ 0x40);  // the CRC
  expect_corrupt_bytes(dir, flipped, "corrupt gzip stream");
  std::string bad_block = gz;
  bad_block[10] = static_cast<char>(0xFF);  // the first deflate block header: invalid type 3
  expect_corrupt_bytes(dir, bad_block, "corrupt gzip stream");
  expect_corrupt_bytes(dir, gz + "junk", "garbage follow the gzip stream");
  expect_corrupt_bytes(dir, std::string("\x1f\x8b", 2), "truncated");
  // A valid gzip stream holding a malformed IDX file: the IDX error, naming the .gz file.
  expect_corrupt_bytes(dir, gzip(raw.substr(0, raw.size() - 1)), "the data is truncated");
  // Concatenated members (what `cat a.gz b.gz` makes) are one file.
  const fs::path cat = dir / "cat.gz";
  write_raw(cat, gzip(raw.substr(0, 100)) + gzip(raw.substr(100)));
  const IdxArray a = gnm::data::read_idx(cat);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{50, 40}));
  EXPECT_EQ(a.data.size(), 2000u);
  fs::remove_all(dir);
#endif
}

// Random truncations and byte flips of a plain and a gzipped file: read_idx either succeeds with
// consistent sizes or throws gnm::IoError.
TEST(Idx, FuzzedFilesOnlyEverThrowIoError) {
  const fs::path dir = scratch_dir();
  const IdxArray a = random_array({6, 5, 4}, 42);
  gnm::data::write_idx(dir / "plain", a, false);
  std::vector<std::string> originals = {gnm::read_file(dir / "plain")};
  if (gnm::data::idx_gzip_supported()) {
    gnm::data::write_idx(dir / "gz", a, true);
    originals.push_back(gnm::read_file(dir / "gz"));
  }
  int accepted = 0, rejected = 0;
  for (std::uint64_t seed = 0; seed < 1000; ++seed) {
    const gnm::PhiloxRng rng(seed, 5);
    std::string s = originals[seed % originals.size()];
    std::uint64_t i = 0;
    if (rng.bits(i++) % 2 == 0) {
      s.resize(rng.bits(i++) % s.size());
    } else {
      for (int k = 0; k < 3; ++k) {
        const std::size_t pos = rng.bits(i++) % std::min<std::size_t>(s.size(), 24);
        s[pos] = static_cast<char>(s[pos] ^ static_cast<char>(1 + rng.bits(i++) % 255));
      }
    }
    write_raw(dir / "f", s);
    try {
      const IdxArray b = gnm::data::read_idx(dir / "f");
      std::size_t n = 1;
      for (const auto d : b.dims) n *= d;
      ASSERT_EQ(b.data.size(), n);
      ++accepted;
    } catch (const gnm::IoError&) {
      ++rejected;
    } catch (const std::exception& e) {
      FAIL() << "seed " << seed << ": " << e.what();
    }
  }
  std::printf("fuzz: %d mutated files accepted, %d rejected\n", accepted, rejected);
  EXPECT_GT(rejected, 500);
  fs::remove_all(dir);
}

TEST(Idx, LoadsGeneratedSplitsScaledLikeToTensor) {
  const fs::path dir = scratch_dir();
  const bool gz = gnm::data::idx_gzip_supported();
  const IdxArray images = random_array({5, 3, 4}, 7);
  const IdxArray labels{{5}, {3, 0, 9, 1, 9}};
  gnm::data::write_idx(dir / (gz ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte"),
                       images, gz);
  gnm::data::write_idx(dir / (gz ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte"),
                       labels, gz);
  const auto s = gnm::data::load_mnist_split(dir, "train");
  EXPECT_EQ(s.n, 5);
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.cols, 4);
  EXPECT_EQ(s.labels, (std::vector<std::int64_t>{3, 0, 9, 1, 9}));
  ASSERT_EQ(s.images.size(), 60u);
  for (std::size_t i = 0; i < 60; ++i) {
    EXPECT_EQ(s.images[i], static_cast<float>(images.data[i]) / 255.0f) << i;  // exactly
  }
  const auto two = gnm::data::load_mnist_split(dir, "train", 2);
  EXPECT_EQ(two.n, 2);
  EXPECT_EQ(two.images.size(), 24u);
  EXPECT_EQ(two.labels, (std::vector<std::int64_t>{3, 0}));
  EXPECT_EQ(gnm::data::load_mnist_split(dir, "train", 0).n, 0);
  EXPECT_EQ(gnm::data::load_mnist_split(dir, "train", 99).n, 5);
  EXPECT_THROW((void)gnm::data::load_mnist_split(dir, "train", -2), gnm::Error);
  EXPECT_THROW((void)gnm::data::load_mnist_split(dir, "test"), gnm::Error);
  // A plain file is preferred over a .gz beside it.
  gnm::data::write_idx(dir / "train-labels-idx1-ubyte", IdxArray{{5}, {1, 1, 1, 1, 1}}, false);
  EXPECT_EQ(gnm::data::load_mnist_split(dir, "train").labels[0], 1);
  fs::remove_all(dir);
}

TEST(Idx, InconsistentSplitsAreIoErrorsNamingTheFiles) {
  const fs::path dir = scratch_dir();
  auto expect_error = [&](const std::vector<std::string>& parts) {
    try {
      (void)gnm::data::load_mnist_split(dir, "t10k");
      ADD_FAILURE() << "no error";
    } catch (const gnm::IoError& e) {
      for (const auto& p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  const fs::path img = dir / "t10k-images-idx3-ubyte";
  const fs::path lbl = dir / "t10k-labels-idx1-ubyte";
  expect_error({img.string(), "install Debian's dataset-fashion-mnist"});  // nothing there
  gnm::data::write_idx(img, random_array({4, 2, 2}, 1), false);
  expect_error({lbl.string()});
  gnm::data::write_idx(lbl, IdxArray{{3}, {1, 2, 3}}, false);
  expect_error({img.string(), lbl.string(), "4 images", "3 labels"});
  gnm::data::write_idx(lbl, IdxArray{{4}, {1, 2, 12, 3}}, false);
  expect_error({lbl.string(), "label 12 of example 2"});
  gnm::data::write_idx(lbl, IdxArray{{2, 2}, {1, 2, 3, 4}}, false);
  expect_error({lbl.string(), "1 dimension"});
  gnm::data::write_idx(lbl, IdxArray{{4}, {1, 2, 3, 4}}, false);
  gnm::data::write_idx(img, random_array({4, 4}, 1), false);
  expect_error({img.string(), "3 dimensions"});
  fs::remove_all(dir);
}

TEST(Idx, DefaultDirectoryHonoursTheEnvironment) {
  const char* old = std::getenv("GNM_FASHION_MNIST_DIR");
  const std::string saved = old ? old : "";
  ::setenv("GNM_FASHION_MNIST_DIR", "/data/fmnist", 1);
  EXPECT_EQ(gnm::data::default_fashion_mnist_dir(), fs::path("/data/fmnist"));
  ::setenv("GNM_FASHION_MNIST_DIR", "", 1);
  EXPECT_EQ(gnm::data::default_fashion_mnist_dir(), fs::path("/usr/share/datasets/fashion-mnist"));
  ::unsetenv("GNM_FASHION_MNIST_DIR");
  EXPECT_EQ(gnm::data::default_fashion_mnist_dir(), fs::path("/usr/share/datasets/fashion-mnist"));
  if (old) ::setenv("GNM_FASHION_MNIST_DIR", saved.c_str(), 1);
}

namespace {
bool have_fashion_mnist(const std::string& split) {
  const fs::path d = gnm::data::default_fashion_mnist_dir();
  const std::string stem = split + "-images-idx3-ubyte";
  return fs::exists(d / stem) ||
         (fs::exists(d / (stem + ".gz")) && gnm::data::idx_gzip_supported());
}

void check_real_split(const std::string& split, std::int64_t n) {
  if (!have_fashion_mnist(split)) {
    GTEST_SKIP() << "Fashion-MNIST not found in " << gnm::data::default_fashion_mnist_dir()
                 << " (Debian: dataset-fashion-mnist, or set GNM_FASHION_MNIST_DIR), or it is"
                 << " gzipped and this build has no zlib";
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto s = gnm::data::load_mnist_split(gnm::data::default_fashion_mnist_dir(), split);
  const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - t0;
  std::printf("load_mnist_split(\"%s\"): %.1f ms\n", split.c_str(), ms.count());  // not asserted
  EXPECT_EQ(s.n, n);
  EXPECT_EQ(s.rows, 28);
  EXPECT_EQ(s.cols, 28);
  ASSERT_EQ(s.images.size(), static_cast<std::size_t>(n) * 28 * 28);
  std::array<std::int64_t, 10> histogram{};
  for (const auto l : s.labels) ++histogram[static_cast<std::size_t>(l)];
  for (int c = 0; c < 10; ++c)
    EXPECT_EQ(histogram[static_cast<std::size_t>(c)], n / 10) << "class " << c;
  // Fashion-MNIST's mean pixel is about 0.286 in both splits (a wrong scale or offset shows).
  const double mean =
      std::accumulate(s.images.begin(), s.images.end(), 0.0) / static_cast<double>(s.images.size());
  EXPECT_NEAR(mean, 0.286, 0.01);
  EXPECT_EQ(*std::min_element(s.images.begin(), s.images.end()), 0.0f);
  EXPECT_EQ(*std::max_element(s.images.begin(), s.images.end()), 1.0f);
}
}  // namespace

TEST(Idx, RealFashionMnistTestSplit) { check_real_split("t10k", 10000); }

// Also prints the load time of the largest split (inflate ~30 MB, convert 47 M pixels):
//   gnm_engine_tests --gtest_filter='Idx.RealFashionMnist*'
TEST(Idx, RealFashionMnistTrainSplit) { check_real_split("train", 60000); }
