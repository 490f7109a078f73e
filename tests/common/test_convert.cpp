// dtype conversion on the CPU (cpu/convert.cpp, cpu/copy.cpp, Tensor::to): the vector f32 ↔ f16
// and f32 ↔ bf16 paths must give exactly the bits of the scalar conversions in gnm/core/half.hpp
// (the specification, itself checked against a double-precision reference in test_half.cpp), for
// every class of input, at every length (vector body, tails, threaded chunks), at every alignment
// and for any layout; to(dtype) keeps the strides of dense views (PyTorch's preserve_format) and
// its gradient still has the input's shape.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/half.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/tensor/ops.hpp"
#include "gnm/tensor/tensor.hpp"

namespace {

using gnm::DType;
using gnm::Tensor;
using gnm::detail::bits_to_float;
using gnm::detail::float_to_bits;

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// The scalar specification for each 16-bit dtype.
std::uint16_t spec_from_f32(DType to, float x) {
  return to == DType::f16 ? gnm::float_to_half_bits(x) : gnm::float_to_bf16_bits(x);
}
float spec_to_f32(DType from, std::uint16_t h) {
  return from == DType::f16 ? gnm::half_bits_to_float(h) : gnm::bf16_bits_to_float(h);
}

Tensor f32_from_bits(const std::vector<std::uint32_t>& bits) {
  Tensor t = gnm::empty({static_cast<std::int64_t>(bits.size())});
  if (!bits.empty()) std::memcpy(t.data<float>(), bits.data(), bits.size() * 4);
  return t;
}
Tensor half_from_bits(const std::vector<std::uint16_t>& bits, DType dtype) {
  Tensor t = gnm::empty({static_cast<std::int64_t>(bits.size())}, {.dtype = dtype});
  if (!bits.empty()) std::memcpy(t.data_ptr(), bits.data(), bits.size() * 2);
  return t;
}
// Elements in row-major order, as raw bits (contiguous() of an f32/f16/bf16 tensor is a plain
// copy, not a conversion).
std::vector<std::uint32_t> f32_bits(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<std::uint32_t> out(static_cast<std::size_t>(c.numel()));
  if (!out.empty()) std::memcpy(out.data(), c.data<float>(), out.size() * 4);
  return out;
}
std::vector<std::uint16_t> half_bits(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<std::uint16_t> out(static_cast<std::size_t>(c.numel()));
  if (!out.empty()) std::memcpy(out.data(), c.data_ptr(), out.size() * 2);
  return out;
}

// Counts mismatches against the spec and reports the first five.
void expect_f32_to_16_matches(const std::vector<std::uint32_t>& in, const Tensor& got, DType to,
                              const std::string& what) {
  const std::vector<std::uint16_t> g = half_bits(got);
  ASSERT_EQ(g.size(), in.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::uint16_t want = spec_from_f32(to, bits_to_float(in[i]));
    if (g[i] != want && ++bad <= 5) {
      ADD_FAILURE() << what << " " << gnm::dtype_name(to) << " [" << i << "] " << hex(in[i])
                    << ": got " << hex(g[i]) << ", want " << hex(want);
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}
void expect_16_to_f32_matches(const std::vector<std::uint16_t>& in, const Tensor& got, DType from,
                              const std::string& what) {
  const std::vector<std::uint32_t> g = f32_bits(got);
  ASSERT_EQ(g.size(), in.size()) << what;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::uint32_t want = float_to_bits(spec_to_f32(from, in[i]));
    if (g[i] != want && ++bad <= 5) {
      ADD_FAILURE() << what << " " << gnm::dtype_name(from) << " [" << i << "] " << hex(in[i])
                    << ": got " << hex(g[i]) << ", want " << hex(want);
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

// Every class of f32 input, in a shuffled-looking order so each class lands in vector lanes and
// in scalar tails: random bit patterns (every exponent, sign and NaN payload), ±0, f32 and f16
// subnormals, the f16 flush-to-zero and overflow boundaries, exact ties for both formats,
// ±Inf, quiet and signalling NaNs.
std::vector<std::uint32_t> f32_test_patterns() {
  std::vector<std::uint32_t> p = {
      0x00000000, 0x80000000,                          // ±0
      0x00000001, 0x807FFFFF, 0x00400000, 0x00012345,  // f32 subnormals
      0x33000000, 0x33000001, 0x32FFFFFF, 0xB3000001,  // around 2^-25: f16 rounds to 0 or 2^-24
      0x33800000, 0x387FC000, 0x387FE000, 0x387FFFFF,  // f16 subnormals, up to 2^-14 - tiny
      0x38800000, 0xB8800000,                          // 2^-14: smallest normal f16
      0x477FE000, 0x477FEFFF, 0x477FF000, 0xC77FF000,  // 65504, just below 65520, 65520 → Inf
      0x47800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000,  // 65536, FLT_MAX (bf16 → Inf), bf16 tie
      0x7F800000, 0xFF800000,                          // ±Inf
      0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001,  // quiet and signalling NaNs
      0x7FBFFFFF, 0x7F801000, 0x7FFFFFFF, 0xFFAAAAAA,  // NaN payloads (some all below bit 13/16)
  };
  // Ties: f16 drops 13 bits (tie = 0x1000), bf16 drops 16 (tie = 0x8000); both parities of the
  // kept part, normal and f16-subnormal ranges.
  for (std::uint32_t kept : {0x3F800000u, 0x3F802000u, 0x3F804000u, 0x3F806000u, 0x46FFE000u,
                             0x477FC000u, 0x387FC000u, 0x3F810000u, 0x00010000u}) {
    for (std::uint32_t low : {0x1000u, 0x0FFFu, 0x1001u, 0x8000u, 0x7FFFu, 0x8001u}) {
      p.push_back(kept | low);
      p.push_back((kept | low) ^ 0x80000000u);
    }
  }
  // f16 subnormal ties: 2^-24 · (k + ½) for several k is exactly representable in f32.
  for (int k = 0; k < 8; ++k) {
    const float x = std::ldexp(static_cast<float>(2 * k + 1), -25);
    p.push_back(float_to_bits(x));
    p.push_back(float_to_bits(-x));
  }
  const gnm::PhiloxRng rng(/*seed=*/77);
  for (std::uint64_t i = 0; i < 200000; ++i) p.push_back(rng.bits(i));
  // Random values in the ranges each format covers densely.
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const std::uint32_t r = rng.bits(1000000 + i);
    p.push_back((r & 0x807FFFFFu) | ((100u + (r >> 24) % 45u) << 23));  // f16 exponent range
  }
  return p;
}

TEST(Convert, F32ToHalfAndBf16BitForBitAtEveryAlignment) {
  const std::vector<std::uint32_t> p = f32_test_patterns();
  const Tensor x = f32_from_bits(p);
  for (DType to : {DType::f16, DType::bf16}) {
    expect_f32_to_16_matches(p, x.to(to), to, "whole");
    // Contiguous narrow views start at every offset mod 16: each pattern passes through each
    // vector lane and through the scalar tail.
    for (std::int64_t shift = 1; shift < 17; ++shift) {
      const std::int64_t n = x.numel() - shift - (shift % 5);
      const std::vector<std::uint32_t> sub(p.begin() + shift, p.begin() + shift + n);
      expect_f32_to_16_matches(sub, x.narrow(0, shift, n).to(to), to,
                               "shift " + std::to_string(shift));
    }
  }
}

// All 65536 bit patterns of each 16-bit format → f32 (exact), and back (the identity on every
// non-NaN pattern; NaNs come back quiet with their top payload bits, as the scalar round trip).
TEST(Convert, ExhaustiveHalfPatternsToF32AndBack) {
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<std::uint16_t>(h);
  for (DType from : {DType::f16, DType::bf16}) {
    const Tensor h = half_from_bits(all, from);
    const Tensor f = h.to(DType::f32);
    expect_16_to_f32_matches(all, f, from, "exhaustive");
    const std::vector<std::uint16_t> back = half_bits(f.to(from));
    std::size_t bad = 0;
    for (std::uint32_t i = 0; i < 65536; ++i) {
      const float v = spec_to_f32(from, all[i]);
      const std::uint16_t want = std::isnan(v) ? spec_from_f32(from, v) : all[i];
      if (back[i] != want && ++bad <= 5) {
        ADD_FAILURE() << gnm::dtype_name(from) << " " << hex(i) << ": back " << hex(back[i])
                      << ", want " << hex(want);
      }
      if (std::isnan(v)) {
        EXPECT_TRUE(std::isnan(spec_to_f32(from, back[i]))) << hex(i);
      }
    }
    EXPECT_EQ(bad, 0u);
  }
}

// Lengths around the vector widths (8 and 16 lanes) and one past the thread-pool grain many
// times over (1000003 = prime: the pool's chunks split mid-vector).
TEST(Convert, LengthsTailsAndThreading) {
  const gnm::PhiloxRng rng(/*seed=*/5);
  for (std::int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000003}) {
    std::vector<std::uint32_t> p(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::uint32_t r = rng.bits(static_cast<std::uint64_t>(n) * 7 + i);
      // Mostly ordinary values (exponents 2^-30 … 2^20), with every 13th a raw pattern.
      p[i] = i % 13 == 0 ? r : (r & 0x807FFFFFu) | ((97u + (r >> 24) % 51u) << 23);
    }
    const Tensor x = f32_from_bits(p);
    const std::string what = "n=" + std::to_string(n);
    for (DType low : {DType::f16, DType::bf16}) {
      const Tensor y = x.to(low);
      ASSERT_EQ(y.shape(), x.shape());
      expect_f32_to_16_matches(p, y, low, what);
      const std::vector<std::uint16_t> h = half_bits(y);
      expect_16_to_f32_matches(h, y.to(DType::f32), low, what);
    }
  }
}

// Strided and broadcast sources and strided destinations: the result equals the element-by-
// element conversion of the same logical elements.
TEST(Convert, NonContiguousSourcesAndDestinations) {
  gnm::manual_seed(11);
  const Tensor base = gnm::rand({23, 41}, {}, -70000.0, 70000.0);  // includes f16 overflow
  const std::vector<Tensor> sources = {
      base.t(),                                 // transposed (dense)
      base.slice(1, 1, 40, 3),                  // step 3 along rows
      base.slice(0, 2, 23, 2).t(),              // strided and transposed
      base.select(1, 5).unsqueeze(1).expand({23, 9}),  // broadcast (stride 0)
      base.view({23, 41, 1}).permute({2, 1, 0}),        // permuted with a size-1 dim
  };
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const Tensor& s = sources[i];
    const std::vector<std::uint32_t> want_in = f32_bits(s);
    for (DType low : {DType::f16, DType::bf16}) {
      const std::string what = "source " + std::to_string(i);
      const Tensor y = s.to(low);
      EXPECT_EQ(y.shape(), s.shape()) << what;
      expect_f32_to_16_matches(want_in, y, low, what);
      // Back to f32 from a step-2 16-bit view (odd elements are poison: NaN patterns).
      const std::vector<std::uint16_t> h = half_bits(y);
      std::vector<std::uint16_t> wide(2 * h.size(), 0x7FFF);
      for (std::size_t k = 0; k < h.size(); ++k) wide[2 * k] = h[k];
      const Tensor strided16 =
          half_from_bits(wide, low).slice(0, 0, static_cast<std::int64_t>(wide.size()), 2);
      expect_16_to_f32_matches(h, strided16.to(DType::f32), low, what + " step-2 16-bit");
      // Into a destination with reversed strides (a transpose for 2-d) through copy_.
      gnm::Shape reversed(s.shape().rbegin(), s.shape().rend()), dims;
      for (std::int64_t d = s.dim() - 1; d >= 0; --d) dims.push_back(d);
      Tensor dst = gnm::empty(reversed, {.dtype = low}).permute(dims);
      dst.copy_(s);
      expect_f32_to_16_matches(want_in, dst, low, what + " copy_ into reversed strides");
      Tensor dst32 = gnm::empty(reversed).permute(dims);
      dst32.copy_(dst);
      expect_16_to_f32_matches(half_bits(dst), dst32, low, what + " 16-bit copy_ to reversed");
    }
  }
}

// Other dtype pairs take the generic loop (unit stride or strided); a spot check of each kind.
TEST(Convert, OtherPairsStillConvert) {
  const std::vector<double> v = {0.0, -1.5, 2.25, 1e10, -3.0, 7.0, 65519.0, 1.0 / 3.0, 255.0};
  const Tensor d = gnm::from_vector(std::span<const double>(v), {9});
  const std::vector<float> f = d.to(DType::f32).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(f[i], static_cast<float>(v[i]));
  const std::vector<double> back = d.to(DType::f32).to(DType::f64).to_vector<double>();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(back[i], static_cast<double>(f[i]));
  // f16 ↔ bf16 goes through f32: each rounding as the spec composes them.
  const Tensor h = d.to(DType::f16);
  const std::vector<std::uint16_t> hb = half_bits(h), bb = half_bits(h.to(DType::bf16));
  for (std::size_t i = 0; i < v.size(); ++i)
    EXPECT_EQ(bb[i], gnm::float_to_bf16_bits(gnm::half_bits_to_float(hb[i]))) << i;
  // Same dtype, contiguous (a byte copy) and strided.
  const Tensor i64 = gnm::arange(30).view({5, 6});
  EXPECT_EQ(i64.clone().to_vector<std::int64_t>(), i64.to_vector<std::int64_t>());
  std::vector<std::int64_t> transposed;
  for (std::int64_t j = 0; j < 6; ++j)
    for (std::int64_t i = 0; i < 5; ++i) transposed.push_back(i * 6 + j);
  EXPECT_EQ(i64.t().clone().to_vector<std::int64_t>(), transposed);
  // u8 → bool normalises to 0/1; bool → bool keeps it.
  const std::vector<double> bytes = {0.0, 2.0, 255.0, 1.0};
  const Tensor b =
      gnm::from_vector(std::span<const double>(bytes), {4}).to(DType::u8).to(DType::boolean);
  const std::vector<std::uint8_t> normalised = {0, 1, 1, 1};
  EXPECT_EQ(b.to(DType::u8).to_vector<std::uint8_t>(), normalised);
  EXPECT_EQ(b.clone().to(DType::u8).to_vector<std::uint8_t>(), normalised);
}

// to(dtype) of a dense, non-contiguous view keeps its strides (PyTorch's preserve_format);
// anything else comes out contiguous.
TEST(Convert, ToKeepsStridesOfDenseViews) {
  gnm::manual_seed(12);
  const Tensor stack = gnm::rand({3, 37, 29}, {}, -2.0, 2.0);
  const Tensor wt = stack.select(0, 1).t();  // (29, 37), strides (1, 29), offset 37·29
  const Tensor perm = stack.permute({2, 0, 1});
  for (const Tensor& src : {wt, perm}) {
    for (DType low : {DType::f16, DType::bf16}) {
      const Tensor y = src.to(low);
      EXPECT_EQ(y.strides(), src.strides());
      EXPECT_EQ(y.offset(), 0);
      EXPECT_FALSE(y.is_contiguous());
      expect_f32_to_16_matches(f32_bits(src), y, low, "dense view");
      const Tensor back = y.to(DType::f32);  // and the way back keeps them too
      EXPECT_EQ(back.strides(), src.strides());
      expect_16_to_f32_matches(half_bits(y), back, low, "dense view back");
    }
  }
  // Not dense: a step slice and a broadcast give row-major results.
  const Tensor row = stack.select(0, 0).select(1, 3);  // (37), stride 29
  for (const Tensor& src : {stack.slice(2, 0, 29, 2), row.unsqueeze(0).expand({4, 37})}) {
    const Tensor y = src.to(DType::bf16);
    EXPECT_TRUE(y.is_contiguous());
    expect_f32_to_16_matches(f32_bits(src), y, DType::bf16, "not dense");
  }
}

// The gradient through a stride-keeping to(): the input's shape, and the upstream gradient
// converted back exactly (ToCopyBackward rounds it to the lower dtype once, then widens).
TEST(Convert, BackwardThroughStrideKeepingTo) {
  gnm::manual_seed(13);
  for (DType low : {DType::f16, DType::bf16}) {
    Tensor w = gnm::rand({37, 29}, {.requires_grad = true}, -1.0, 1.0);
    const Tensor c = gnm::rand({29, 37}, {}, -3.0, 3.0);
    const Tensor y = w.t().to(low);  // strides (1, 29) kept
    ASSERT_EQ(y.strides(), w.t().strides());
    gnm::sum(gnm::mul(y.to(DType::f32), c)).backward();
    const Tensor g = w.grad();
    ASSERT_TRUE(g.defined());
    EXPECT_EQ(g.shape(), w.shape());
    EXPECT_EQ(g.dtype(), DType::f32);
    // d/dw = cᵀ rounded to `low` (the gradient of y.to(f32) arrives in y's dtype).
    const std::vector<std::uint32_t> got = f32_bits(g);
    const std::vector<std::uint32_t> cb = f32_bits(c.t());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const float want = spec_to_f32(low, spec_from_f32(low, bits_to_float(cb[i])));
      ASSERT_EQ(got[i], float_to_bits(want)) << gnm::dtype_name(low) << " [" << i << "]";
    }
  }
}

// The f16 value type's conversions (F16C instructions on x86-64-v3 hosts, see Note [F16C in
// gnm::f16]) agree with the integer specification on a stride through all 2^32 floats and on
// every 16-bit pattern; the kernels load and store f16 through them.
TEST(Convert, F16ValueTypeMatchesSpec) {
  std::size_t bad = 0;
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += 257) {
    const float x = bits_to_float(static_cast<std::uint32_t>(u));
    if (gnm::f16(x).bits != gnm::float_to_half_bits(x) && ++bad <= 5)
      ADD_FAILURE() << hex(static_cast<std::uint32_t>(u));
  }
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const auto b = static_cast<std::uint16_t>(h);
    if (float_to_bits(static_cast<float>(gnm::f16::from_bits(b))) !=
            float_to_bits(gnm::half_bits_to_float(b)) &&
        ++bad <= 5)
      ADD_FAILURE() << hex(h);
  }
  EXPECT_EQ(bad, 0u);
}

}  // namespace
