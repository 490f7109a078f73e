// IDX files (MNIST, Fashion-MNIST): reading plain or gzipped files with every corruption reported
// as an IoError, writing them for tests, and loading a split as normalised float images.
#include "gnm/data/idx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"

#if GNM_HAVE_ZLIB
#include <zlib.h>
#endif

namespace gnm::data {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kTypeU8 = 0x08;
constexpr std::size_t kMaxDims = 4;
// The largest file that can hold a valid IDX array: magic, four dimensions, kMaxIdxElements
// bytes. Also the cap on decompressed output, so a gzip bomb stops at ~1 GB.
constexpr std::uint64_t kMaxIdxBytes = 4 + 4 * kMaxDims + kMaxIdxElements;

[[noreturn]] void corrupt(const fs::path& path, const std::string& what) {
  throw IoError("IDX file '" + path.string() + "': " + what);
}

std::string hex_byte(unsigned b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("0x") + kHex[(b >> 4) & 15] + kHex[b & 15];
}

std::string dims_string(const std::vector<std::uint32_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// The element types the IDX format defines; we read only 0x08.
const char* idx_type_name(unsigned t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
  }
}

// The whole file. POSIX calls rather than a stream so that a directory or a device is refused
// before its "size" is used to allocate.
std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) corrupt(path, std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) corrupt(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) corrupt(path, "not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > kMaxIdxBytes) {
    corrupt(path, "the file is " + std::to_string(size) +
                      " bytes, larger than any IDX file of at most 10^9 elements");
  }
  std::vector<std::uint8_t> bytes(size);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) corrupt(path, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

bool is_gzip(const std::vector<std::uint8_t>& b) {
  return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

#if GNM_HAVE_ZLIB
// The total size of the IDX file whose first `n` bytes are `p` when they hold a plausible header
// (type 0x08, 1 to 4 dimensions, at most kMaxIdxElements elements), else 0.
std::uint64_t idx_size_from_header(const std::uint8_t* p, std::size_t n) {
  if (n < 4 || p[0] != 0 || p[1] != 0 || p[2] != kTypeU8 || p[3] == 0 || p[3] > kMaxDims) return 0;
  const std::size_t header = 4 + 4 * std::size_t{p[3]};
  if (n < header) return 0;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < p[3]; ++d) {
    const std::uint8_t* q = p + 4 + 4 * d;
    count *=
        std::uint32_t{q[0]} << 24 | std::uint32_t{q[1]} << 16 | std::uint32_t{q[2]} << 8 | q[3];
    if (count > kMaxIdxElements) return 0;
  }
  return header + count;
}

// Inflates a gzip file (one or more concatenated members, as `cat a.gz b.gz` makes). Truncated,
// corrupt (CRC mismatch included) or trailing-garbage input is an IoError.
std::vector<std::uint8_t> gunzip(const std::vector<std::uint8_t>& gz, const fs::path& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) corrupt(path, "zlib could not be initialised");
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};
  // The buffer doubles from 64 KiB, clamped to the size the IDX header (once inflated) asks for,
  // so a valid file ends in one exact buffer and a corrupt one never makes us allocate more than
  // twice what it actually inflates to (no trust in the header or the gzip trailer alone).
  std::vector<std::uint8_t> out(std::size_t{1} << 16);
  std::size_t total = 0;
  std::size_t fed = 0;                      // input bytes handed to zlib so far
  constexpr std::size_t kChunk = 1u << 30;  // avail_in and avail_out are 32-bit
  while (true) {
    if (total == out.size()) {
      if (out.size() > kMaxIdxBytes) {
        corrupt(path, "the gzip stream inflates to more than " + std::to_string(kMaxIdxBytes) +
                          " bytes, more than any IDX file of at most 10^9 elements");
      }
      std::uint64_t next = std::min<std::uint64_t>(2 * out.size(), kMaxIdxBytes + 1);
      const std::uint64_t want = idx_size_from_header(out.data(), total);
      if (want > out.size()) next = std::min(next, want + 1);  // + 1: room to see a too-long file
      out.resize(next);
    }
    if (zs.avail_in == 0 && fed < gz.size()) {
      zs.next_in = const_cast<Bytef*>(gz.data() + fed);  // zlib's API is not const-correct
      zs.avail_in = static_cast<uInt>(std::min(kChunk, gz.size() - fed));
      fed += zs.avail_in;
    }
    zs.next_out = out.data() + total;
    zs.avail_out = static_cast<uInt>(std::min(kChunk, out.size() - total));
    const uInt before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    total += before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && fed == gz.size()) break;
      // More input: another gzip member, or garbage after the stream.
      const std::size_t at = fed - zs.avail_in;
      if (gz.size() - at < 2 || gz[at] != 0x1f || gz[at + 1] != 0x8b) {
        corrupt(path, std::to_string(gz.size() - at) + " bytes of garbage follow the gzip stream");
      }
      inflateReset(&zs);
    } else if (rc == Z_BUF_ERROR && zs.avail_in == 0 && fed == gz.size()) {
      corrupt(path, "the gzip stream is truncated (it ends after " + std::to_string(total) +
                        " decompressed bytes)");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      corrupt(path, std::string("corrupt gzip stream: ") + (zs.msg ? zs.msg : "zlib error") +
                        " (zlib code " + std::to_string(rc) + ")");
    }
  }
  out.resize(total);
  return out;
}

std::string gzip_bytes(const std::string& raw) {
  z_stream zs{};
  GNM_CHECK(
      deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK,
      "zlib's deflateInit2 failed");
  GNM_CHECK(raw.size() < (std::size_t{1} << 31), "too large to gzip in one call", raw.size());
  std::string out(deflateBound(&zs, static_cast<uLong>(raw.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);  // the output is deflateBound bytes: one call finishes
  out.resize(zs.total_out);
  deflateEnd(&zs);
  GNM_CHECK(rc == Z_STREAM_END, "zlib's deflate did not finish", rc);
  return out;
}
#endif

IdxArray parse_idx(std::vector<std::uint8_t> bytes, const fs::path& path) {
  if (bytes.size() < 4) {
    corrupt(path, "the file is " + std::to_string(bytes.size()) +
                      " bytes long, shorter than the 4-byte IDX magic");
  }
  if (bytes[0] != 0 || bytes[1] != 0) {
    corrupt(path, "bad magic " + hex_byte(bytes[0]) + " " + hex_byte(bytes[1]) + " " +
                      hex_byte(bytes[2]) + " " + hex_byte(bytes[3]) +
                      ": an IDX file starts with 0x00 0x00 <type> <ndim>");
  }
  if (bytes[2] != kTypeU8) {
    const char* name = idx_type_name(bytes[2]);
    corrupt(path, name ? "unsupported IDX element type " + hex_byte(bytes[2]) + " (" + name +
                             "); only 0x08 (unsigned byte) is supported"
                       : "unknown IDX element type " + hex_byte(bytes[2]));
  }
  const std::size_t ndim = bytes[3];
  if (ndim == 0 || ndim > kMaxDims) {
    corrupt(path, "the header gives " + std::to_string(ndim) + " dimensions; 1 to 4 are supported");
  }
  const std::size_t header = 4 + 4 * ndim;
  if (bytes.size() < header) {
    corrupt(path, "the file ends inside its dimensions: " + std::to_string(ndim) +
                      " dimensions need " + std::to_string(header) +
                      " header bytes, the file has " + std::to_string(bytes.size()));
  }
  IdxArray a;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < ndim; ++d) {
    const std::uint8_t* p = bytes.data() + 4 + 4 * d;  // big-endian u32
    a.dims.push_back(std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 |
                     std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]});
    count *= a.dims.back();  // ≤ 10^9 · 2^32 < 2^64 before the check below stops it
    if (count > kMaxIdxElements) count = kMaxIdxElements + 1;
  }
  if (count > kMaxIdxElements) {
    corrupt(path, "the dimensions " + dims_string(a.dims) +
                      " hold more than 10^9 elements (a corrupt header?)");
  }
  const std::uint64_t have = bytes.size() - header;
  if (have != count) {
    corrupt(path, (have < count ? "the data is truncated: " : "the file is too long: ") +
                      std::string("the dimensions ") + dims_string(a.dims) + " need " +
                      std::to_string(count) + " bytes of data, the file has " +
                      std::to_string(have));
  }
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  a.data = std::move(bytes);
  return a;
}

// `<dir>/<stem>`, or `<dir>/<stem>.gz` when only that exists.
fs::path find_split_file(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  const fs::path plain = dir / stem;
  if (fs::exists(plain, ec)) return plain;
  fs::path gz = plain;
  gz += ".gz";
  if (fs::exists(gz, ec)) return gz;
  throw IoError("MNIST-style data set: neither '" + plain.string() + "' nor '" + gz.string() +
                "' exists (install Debian's dataset-fashion-mnist or set GNM_FASHION_MNIST_DIR)");
}

}  // namespace

bool idx_gzip_supported() { return GNM_HAVE_ZLIB != 0; }

IdxArray read_idx(const fs::path& path) {
  std::vector<std::uint8_t> bytes = read_bytes(path);
  if (is_gzip(bytes)) {
#if GNM_HAVE_ZLIB
    bytes = gunzip(bytes, path);
#else
    corrupt(path,
            "the file is gzip-compressed, but this build has no zlib "
            "(Debian: zlib1g-dev); decompress it with gunzip first");
#endif
  }
  return parse_idx(std::move(bytes), path);
}

void write_idx(const fs::path& path, const IdxArray& array, bool gzip) {
  GNM_CHECK(!array.dims.empty() && array.dims.size() <= kMaxDims,
            "an IDX array has 1 to 4 dimensions", array.dims.size());
  std::size_t count = 1;
  for (const std::uint32_t d : array.dims) {
    GNM_CHECK(!__builtin_mul_overflow(count, std::size_t{d}, &count), "too many elements",
              dims_string(array.dims));
  }
  GNM_CHECK(count == array.data.size(), "data does not hold prod(dims) bytes",
            dims_string(array.dims), array.data.size());
  std::string bytes = {0, 0, static_cast<char>(kTypeU8), static_cast<char>(array.dims.size())};
  for (const std::uint32_t d : array.dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<char>((d >> shift) & 0xFF));
  }
  bytes.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  if (gzip) {
#if GNM_HAVE_ZLIB
    bytes = gzip_bytes(bytes);
#else
    throw NotImplemented(
        "writing gzip-compressed IDX files needs zlib, and this build has none "
        "(Debian: zlib1g-dev)");
#endif
  }
  write_file_atomic(path, bytes);
}

MnistSplit load_mnist_split(const fs::path& dir, std::string_view split, std::int64_t limit) {
  GNM_CHECK(split == "train" || split == "t10k", "the split is \"train\" or \"t10k\"", split);
  GNM_CHECK(limit >= -1, "limit is -1 (all examples) or a count ≥ 0", limit);
  const fs::path image_path = find_split_file(dir, std::string(split) + "-images-idx3-ubyte");
  const fs::path label_path = find_split_file(dir, std::string(split) + "-labels-idx1-ubyte");
  const IdxArray images = read_idx(image_path);
  const IdxArray labels = read_idx(label_path);
  if (images.dims.size() != 3) {
    corrupt(image_path,
            "images need 3 dimensions (n, rows, cols), the file has " + dims_string(images.dims));
  }
  if (labels.dims.size() != 1) {
    corrupt(label_path, "labels need 1 dimension (n), the file has " + dims_string(labels.dims));
  }
  if (images.dims[0] != labels.dims[0]) {
    throw IoError("'" + image_path.string() + "' holds " + std::to_string(images.dims[0]) +
                  " images but '" + label_path.string() + "' holds " +
                  std::to_string(labels.dims[0]) + " labels");
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= 10) {
      corrupt(label_path, "label " + std::to_string(labels.data[i]) + " of example " +
                              std::to_string(i) + " is not in 0..9");
    }
  }
  MnistSplit s;
  s.n = limit < 0 ? std::int64_t{images.dims[0]} : std::min<std::int64_t>(limit, images.dims[0]);
  s.rows = images.dims[1];
  s.cols = images.dims[2];
  const auto pixels = static_cast<std::size_t>(s.n * s.rows * s.cols);
  // byte / 255 in float, as torchvision's ToTensor computes it; a 256-entry table makes it one
  // load per pixel (the 47 M pixels of the train split convert in tens of milliseconds).
  std::array<float, 256> scale{};
  for (int v = 0; v < 256; ++v) scale[static_cast<std::size_t>(v)] = static_cast<float>(v) / 255.0f;
  s.images.resize(pixels);
  std::transform(images.data.begin(), images.data.begin() + static_cast<std::ptrdiff_t>(pixels),
                 s.images.begin(), [&](std::uint8_t v) { return scale[v]; });
  s.labels.assign(labels.data.begin(), labels.data.begin() + s.n);
  return s;
}

fs::path default_fashion_mnist_dir() {
  const char* env = std::getenv("GNM_FASHION_MNIST_DIR");
  if (env != nullptr && *env != '\0') return env;
  return "/usr/share/datasets/fashion-mnist";
}

}  // namespace gnm::data
