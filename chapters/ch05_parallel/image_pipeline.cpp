// Section 5.2's workload: PNG-style decode + augmentation (load), and an MLP step (compute).
#include "image_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cpu/gemm.hpp"

namespace chapter5 {
namespace {

// PNG's Paeth predictor: whichever of left, up, up-left is closest to left + up − up-left.
std::uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return static_cast<std::uint8_t>(a);
  return static_cast<std::uint8_t>(pb <= pc ? b : c);
}

// The predictor of filter `type` for pixel x of a row, given the decoded row above (`up`, or
// nullptr for the first row) and the decoded part of this row.
int predict(int type, const std::uint8_t* row, const std::uint8_t* up, int x) {
  const int a = x > 0 ? row[x - 1] : 0;
  const int b = up ? up[x] : 0;
  const int c = (up && x > 0) ? up[x - 1] : 0;
  switch (type) {
    case 0: return 0;
    case 1: return a;
    case 2: return b;
    case 3: return (a + b) / 2;
    default: return paeth(a, b, c);
  }
}

}  // namespace

//! [decode]
void decode_image(const std::uint8_t* encoded, std::uint8_t* pixels) {
  for (int y = 0; y < kSide; ++y) {
    const std::uint8_t* in = encoded + y * kRowBytes;
    const int type = in[0];
    GNM_CHECK(type <= 4, "decode_image: unknown PNG filter type", type, y);
    std::uint8_t* row = pixels + y * kSide;
    const std::uint8_t* up = y > 0 ? row - kSide : nullptr;
    // Each pixel depends on the one just decoded: a serial chain, as in a real PNG decoder.
    for (int x = 0; x < kSide; ++x) {
      row[x] = static_cast<std::uint8_t>(in[1 + x] + predict(type, row, up, x));
    }
  }
}
//! [decode]

EncodedDataset make_dataset(std::int64_t count, std::uint64_t seed) {
  EncodedDataset d;
  d.count = count;
  d.bytes.resize(static_cast<std::size_t>(count * kEncodedBytes));
  d.labels.resize(static_cast<std::size_t>(count));
  std::vector<std::uint8_t> pixels(kPixels), check(kPixels);
  for (std::int64_t i = 0; i < count; ++i) {
    const gnm::PhiloxRng rng(seed, static_cast<std::uint64_t>(i));
    const int label = static_cast<int>(i % kClasses);
    d.labels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(label);
    for (int y = 0; y < kSide; ++y) {
      for (int x = 0; x < kSide; ++x) {
        const float wave = std::sin(static_cast<float>(x * (label + 1) + 3 * y) / 5.0f);
        const float noise = rng.uniform(static_cast<std::uint64_t>(y * kSide + x), -20.0f, 20.0f);
        pixels[static_cast<std::size_t>(y * kSide + x)] =
            static_cast<std::uint8_t>(std::clamp(128.0f + 100.0f * wave + noise, 0.0f, 255.0f));
      }
    }
    std::uint8_t* out = d.bytes.data() + i * kEncodedBytes;
    for (int y = 0; y < kSide; ++y) {
      const int type = static_cast<int>(rng.bits(static_cast<std::uint64_t>(kPixels + y)) % 5);
      const std::uint8_t* row = pixels.data() + y * kSide;
      const std::uint8_t* up = y > 0 ? row - kSide : nullptr;
      out[y * kRowBytes] = static_cast<std::uint8_t>(type);
      for (int x = 0; x < kSide; ++x) {
        out[y * kRowBytes + 1 + x] = static_cast<std::uint8_t>(row[x] - predict(type, row, up, x));
      }
    }
    decode_image(out, check.data());
    GNM_CHECK(check == pixels, "make_dataset: an image does not decode to its pixels", i);
  }
  return d;
}

//! [load_batch]
Batch load_batch(const EncodedDataset& data, std::int64_t epoch, std::int64_t index,
                 int batch_size) {
  GNM_CHECK((index + 1) * batch_size <= data.count, "load_batch: batch past the dataset", index,
            batch_size, data.count);
  constexpr float kMean = 0.2860f, kStd = 0.3530f;  // Fashion-MNIST's, for realism
  Batch b;
  b.index = index;
  b.images.resize(static_cast<std::size_t>(batch_size) * kPixels);
  b.labels.resize(static_cast<std::size_t>(batch_size));
  std::uint8_t pixels[kPixels];
  for (int k = 0; k < batch_size; ++k) {
    const std::int64_t image = index * batch_size + k;
    decode_image(data.bytes.data() + image * kEncodedBytes, pixels);
    // Augmentation draws: a pure function of (epoch, image), never of time or thread.
    const gnm::PhiloxRng rng(1000 + static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(image));
    const int dy = static_cast<int>(rng.bits(0) % 5) - 2;  // crop offset in [−2, 2]
    const int dx = static_cast<int>(rng.bits(1) % 5) - 2;
    const bool flip = (rng.bits(2) & 1u) != 0;
    float* out = b.images.data() + static_cast<std::size_t>(k) * kPixels;
    for (int y = 0; y < kSide; ++y) {
      for (int x = 0; x < kSide; ++x) {
        const int sy = y + dy;
        const int sx = (flip ? kSide - 1 - x : x) + dx;
        const bool inside = sy >= 0 && sy < kSide && sx >= 0 && sx < kSide;
        const float v = inside ? static_cast<float>(pixels[sy * kSide + sx]) / 255.0f : 0.0f;
        out[y * kSide + x] = (v - kMean) / kStd;
      }
    }
    b.labels[static_cast<std::size_t>(k)] = data.labels[static_cast<std::size_t>(image)];
  }
  return b;
}
//! [load_batch]

Mlp::Mlp(std::uint64_t seed) : w1_(kPixels * kHidden), w2_(kHidden * kClasses) {
  // Uniform Kaiming-style ranges: ±sqrt(6 / fan_in).
  gnm::fill_uniform(w1_, seed, -0.0875f, 0.0875f);
  gnm::fill_uniform(w2_, seed + 1, -0.153f, 0.153f);
}

float Mlp::step(const Batch& batch, gnm::ThreadPool& pool) {
  using gnm::cpu::Transpose;
  const auto B = static_cast<std::int64_t>(batch.labels.size());
  h_.resize(static_cast<std::size_t>(B * kHidden));
  logits_.resize(static_cast<std::size_t>(B * kClasses));
  dlogits_.resize(logits_.size());
  dh_.resize(h_.size());
  dw1_.resize(w1_.size());
  dw2_.resize(w2_.size());
  const float* x = batch.images.data();  // (B, 784)
  // Forward: h = relu(x · W1) (B, 256); logits = h · W2 (B, 10).
  gnm::cpu::sgemm(Transpose::No, Transpose::No, B, kHidden, kPixels, 1.0f, x, kPixels, w1_.data(),
                  kHidden, 0.0f, h_.data(), kHidden, &pool);
  for (float& v : h_) v = std::max(v, 0.0f);
  gnm::cpu::sgemm(Transpose::No, Transpose::No, B, kClasses, kHidden, 1.0f, h_.data(), kHidden,
                  w2_.data(), kClasses, 0.0f, logits_.data(), kClasses, &pool);
  // Softmax cross-entropy: dlogits = (softmax − onehot) / B.
  double loss = 0;
  for (std::int64_t i = 0; i < B; ++i) {
    const float* z = logits_.data() + i * kClasses;
    float* dz = dlogits_.data() + i * kClasses;
    const float m = *std::max_element(z, z + kClasses);
    float sum = 0;
    for (int c = 0; c < kClasses; ++c) sum += (dz[c] = std::exp(z[c] - m));
    const int label = batch.labels[static_cast<std::size_t>(i)];
    loss += static_cast<double>(std::log(sum) - (z[label] - m));
    for (int c = 0; c < kClasses; ++c) dz[c] = (dz[c] / sum - (c == label ? 1.0f : 0.0f)) / static_cast<float>(B);
  }
  // Backward: dW2 = hᵀ · dlogits; dh = (dlogits · W2ᵀ) ⊙ [h > 0]; dW1 = xᵀ · dh.
  gnm::cpu::sgemm(Transpose::Yes, Transpose::No, kHidden, kClasses, B, 1.0f, h_.data(), kHidden,
                  dlogits_.data(), kClasses, 0.0f, dw2_.data(), kClasses, &pool);
  gnm::cpu::sgemm(Transpose::No, Transpose::Yes, B, kHidden, kClasses, 1.0f, dlogits_.data(),
                  kClasses, w2_.data(), kClasses, 0.0f, dh_.data(), kHidden, &pool);
  for (std::size_t i = 0; i < dh_.size(); ++i) dh_[i] = h_[i] > 0.0f ? dh_[i] : 0.0f;
  gnm::cpu::sgemm(Transpose::Yes, Transpose::No, kPixels, kHidden, B, 1.0f, x, kPixels,
                  dh_.data(), kHidden, 0.0f, dw1_.data(), kHidden, &pool);
  constexpr float kLr = 0.05f;
  for (std::size_t i = 0; i < w1_.size(); ++i) w1_[i] -= kLr * dw1_[i];
  for (std::size_t i = 0; i < w2_.size(); ++i) w2_[i] -= kLr * dw2_[i];
  return static_cast<float>(loss / static_cast<double>(B));
}

std::uint64_t Mlp::weights_hash() const {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto* w : {&w1_, &w2_}) {
    for (float v : *w) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, &v, sizeof bits);
      h = (h ^ bits) * 1099511628211ull;
    }
  }
  return h;
}

}  // namespace chapter5
