/// \file
/// IDX files, the format of MNIST and Fashion-MNIST (chapter 10.1), and a loader for their splits.
///
/// An IDX file is a 4-byte magic `00 00 <type> <ndim>`, then ndim big-endian u32 dimensions, then
/// prod(dims) elements in row-major order. Type 0x08 (unsigned byte) is the one MNIST-like data
/// sets use and the only one supported. Files may be gzip-compressed (as Debian's
/// dataset-fashion-mnist ships them); the reader recognises the gzip magic `1f 8b` and inflates
/// them with zlib.
///
///   const auto train = gnm::data::load_mnist_split(gnm::data::default_fashion_mnist_dir(),
///   "train");
///   // train.n = 60000, train.rows = train.cols = 28, train.images in [0, 1], train.labels in 0..9
///
/// Every problem with a file (missing, truncated, a bad magic, a corrupt gzip stream, labels out of
/// range) is a gnm::IoError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

/// Data sets and their file formats (chapter 10): IDX files and the MNIST-style splits.
namespace gnm::data {

/// The contents of an IDX file of unsigned bytes.
struct IdxArray {
  std::vector<std::uint32_t> dims;  ///< 1 to 4 dimensions, outermost first.
  std::vector<std::uint8_t> data;   ///< prod(dims) elements, row-major.
};

/// The largest element count read_idx accepts (10^9, an absurd size for this format): a larger
/// product of dimensions is a corrupt header, not a data set.
inline constexpr std::uint64_t kMaxIdxElements = 1'000'000'000;

/// True when this build can read and write gzip-compressed IDX files (it was built with zlib).
bool idx_gzip_supported();

/// Reads an IDX file of unsigned bytes, plain or gzip-compressed. Throws gnm::IoError naming the
/// file and the problem: missing or unreadable, a bad magic, an element type other than 0x08,
/// ndim 0 or above 4, truncated dimensions, more elements than kMaxIdxElements, data shorter or
/// longer than prod(dims), a corrupt or truncated gzip stream, or a gzip file in a build without
/// zlib.
IdxArray read_idx(const std::filesystem::path& path);

/// Writes `array` as an IDX file of type 0x08, gzip-compressed when `gzip`, atomically (temporary
/// file, fsync, rename). Throws gnm::Error when dims has 0 or more than 4 entries or data does not
/// hold prod(dims) bytes, gnm::NotImplemented for `gzip` in a build without zlib, gnm::IoError when
/// the file cannot be written.
void write_idx(const std::filesystem::path& path, const IdxArray& array, bool gzip);

/// One split of an MNIST-style data set, ready to train on.
struct MnistSplit {
  std::int64_t n = 0;                ///< Number of examples.
  std::int64_t rows = 0;             ///< Image height in pixels (28 for MNIST).
  std::int64_t cols = 0;             ///< Image width in pixels (28 for MNIST).
  std::vector<float> images;         ///< (n, rows, cols) row-major, pixel / 255 in [0, 1].
  std::vector<std::int64_t> labels;  ///< (n), each in 0..9.
};

/// Loads `<dir>/<split>-images-idx3-ubyte` and `<dir>/<split>-labels-idx1-ubyte` (each plain, or
/// with a `.gz` suffix; the plain file wins when both exist). `split` is "train" or "t10k";
/// `limit` ≥ 0 keeps the first `limit` examples, −1 keeps all. Pixels are scaled exactly like
/// torchvision's ToTensor (byte / 255 in float). Throws gnm::Error for a bad `split` or `limit`;
/// gnm::IoError naming the files when they are missing or malformed, when the image file is not
/// 3-d or the label file not 1-d, when their counts differ, or when a label is 10 or more.
MnistSplit load_mnist_split(const std::filesystem::path& dir, std::string_view split,
                            std::int64_t limit = -1);

/// Where Fashion-MNIST lives: the environment variable GNM_FASHION_MNIST_DIR when set and not
/// empty, otherwise /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
std::filesystem::path default_fashion_mnist_dir();

}  // namespace gnm::data
