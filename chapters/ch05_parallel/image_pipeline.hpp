// The two halves of a training step for section 5.2, on synthetic 28×28 grey images (the shape of
// Fashion-MNIST, which chapter 10 loads the same way):
//   load    — decode a PNG-style filtered image (the real work of a PNG decoder after inflate)
//             and augment it (random crop from a 2-pixel zero padding, random horizontal flip,
//             normalisation), for a batch of images;
//   compute — one SGD step of a 784-256-10 MLP (three GEMMs of the engine, softmax cross-entropy).
// Batch i of epoch e is a pure function of (e, i): the augmentation draws come from Philox with
// the epoch as seed and the image index as subsequence, so prefetching cannot change any bit.
#pragma once

#include <cstdint>
#include <vector>

#include "gnm/core/thread_pool.hpp"

namespace chapter5 {

inline constexpr int kSide = 28;                 // image height and width
inline constexpr int kPixels = kSide * kSide;    // 784
inline constexpr int kRowBytes = 1 + kSide;      // a PNG scanline: filter type byte + pixels
inline constexpr int kEncodedBytes = kSide * kRowBytes;
inline constexpr int kHidden = 256;
inline constexpr int kClasses = 10;

// Images stored as PNG scanlines (each row filtered with None/Sub/Up/Average/Paeth).
struct EncodedDataset {
  std::int64_t count = 0;
  std::vector<std::uint8_t> bytes;   // (count, kEncodedBytes)
  std::vector<std::uint8_t> labels;  // (count)
};

// A decoded, augmented batch.
struct Batch {
  std::int64_t index = -1;
  std::vector<float> images;         // (B, 784), normalised
  std::vector<std::int32_t> labels;  // (B)
};

// `count` images: a class-dependent pattern plus noise, filtered with a per-row filter choice.
// Checks that decoding every image gives its pixels back (throws gnm::Error otherwise).
EncodedDataset make_dataset(std::int64_t count, std::uint64_t seed);

// Reverses the PNG filters of one image: kEncodedBytes in, kPixels out.
void decode_image(const std::uint8_t* encoded, std::uint8_t* pixels);

// Batch `index` of `epoch`: images index·B … index·B + B − 1, decoded and augmented.
Batch load_batch(const EncodedDataset& data, std::int64_t epoch, std::int64_t index, int batch_size);

// A 784-256-10 MLP with ReLU, trained by plain SGD.
class Mlp {
 public:
  explicit Mlp(std::uint64_t seed);
  // One forward, backward and update on `batch`, its GEMMs on `pool`; returns the mean loss.
  float step(const Batch& batch, gnm::ThreadPool& pool);
  // FNV-1a over the bits of every weight: equal hashes mean bitwise equal models.
  std::uint64_t weights_hash() const;

 private:
  std::vector<float> w1_;  // (784, 256)
  std::vector<float> w2_;  // (256, 10)
  std::vector<float> h_, logits_, dlogits_, dh_, dw1_, dw2_;  // reused between steps
};

}  // namespace chapter5
