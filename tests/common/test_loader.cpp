// gnm::data::DataLoader (chapter 10.1): every sample exactly once per epoch, the last partial
// batch and drop_last, deterministic Philox shuffles (per seed and epoch, with and without
// prefetching), an unbiased shuffle, MNIST splits, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "gnm/data/loader.hpp"
#include "gnm/tensor/ops.hpp"

namespace {

using gnm::Tensor;
namespace data = gnm::data;

// Sample i is the row [i, i + 0.5, −i] with label i, so a batch shows which samples it holds.
struct Toy {
  Tensor x, y;
};
Toy toy(std::int64_t n) {
  std::vector<float> xv;
  std::vector<std::int64_t> yv;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto f = static_cast<float>(i);
    xv.insert(xv.end(), {f, f + 0.5f, -f});
    yv.push_back(i);
  }
  return {gnm::from_vector(std::span<const float>(xv), {n, 3}),
          gnm::from_vector(std::span<const std::int64_t>(yv), {n})};
}

// The labels of every batch of one epoch, checking each batch's rows against its labels.
std::vector<std::vector<std::int64_t>> epoch_labels(data::DataLoader& loader, std::int64_t e) {
  std::vector<std::vector<std::int64_t>> out;
  for (const data::Batch& b : loader.epoch(e)) {
    const std::vector<std::int64_t> y = b.y.to_vector<std::int64_t>();
    const std::vector<float> x = b.x.to_vector<float>();
    EXPECT_EQ(b.x.shape(), (gnm::Shape{static_cast<std::int64_t>(y.size()), 3}));
    EXPECT_EQ(b.y.dtype(), gnm::DType::i64);
    for (std::size_t k = 0; k < y.size(); ++k) {
      const auto f = static_cast<float>(y[k]);
      EXPECT_EQ(x[3 * k], f);
      EXPECT_EQ(x[3 * k + 1], f + 0.5f);
      EXPECT_EQ(x[3 * k + 2], -f);
    }
    out.push_back(y);
  }
  return out;
}

std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& batches) {
  std::vector<std::int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(DataLoader, EverySampleOncePerEpochWithPartialLastBatch) {
  const Toy d = toy(103);  // a prime: the last batch is partial
  for (std::size_t prefetch : {std::size_t{0}, std::size_t{3}}) {
    data::DataLoader loader(d.x, d.y, {.batch_size = 10, .shuffle = true, .seed = 7,
                                       .prefetch = prefetch});
    EXPECT_EQ(loader.num_samples(), 103);
    EXPECT_EQ(loader.num_batches(), 11);
    for (std::int64_t e = 0; e < 3; ++e) {
      const auto batches = epoch_labels(loader, e);
      ASSERT_EQ(batches.size(), 11u);
      EXPECT_EQ(batches.back().size(), 3u);
      std::vector<std::int64_t> all = flat(batches);
      std::sort(all.begin(), all.end());
      std::vector<std::int64_t> want(103);
      std::iota(want.begin(), want.end(), 0);
      EXPECT_EQ(all, want) << "epoch " << e << " prefetch " << prefetch;
    }
  }
}

TEST(DataLoader, DropLastDropsOnlyThePartialBatch) {
  const Toy d = toy(103);
  data::DataLoader loader(d.x, d.y, {.batch_size = 10, .shuffle = true, .seed = 7,
                                     .drop_last = true});
  EXPECT_EQ(loader.num_batches(), 10);
  const auto batches = epoch_labels(loader, 0);
  ASSERT_EQ(batches.size(), 10u);
  std::vector<std::int64_t> all = flat(batches);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());  // no duplicates
  // Without drop_last the same epoch has the same first 100 samples, in the same order.
  data::DataLoader keep(d.x, d.y, {.batch_size = 10, .shuffle = true, .seed = 7});
  std::vector<std::int64_t> first100 = flat(epoch_labels(keep, 0));
  first100.resize(100);
  EXPECT_EQ(flat(batches), first100);
  data::DataLoader exact(d.x.slice(0, 0, 100), d.y.slice(0, 0, 100),
                         {.batch_size = 10, .drop_last = true});
  EXPECT_EQ(exact.num_batches(), 10);
  data::DataLoader too_big(d.x, d.y, {.batch_size = 200, .drop_last = true});
  EXPECT_EQ(too_big.num_batches(), 0);
  EXPECT_TRUE(epoch_labels(too_big, 0).empty());
}

TEST(DataLoader, ShuffleIsAFunctionOfSeedAndEpoch) {
  const Toy d = toy(50);
  data::DataLoader a(d.x, d.y, {.batch_size = 8, .shuffle = true, .seed = 1});
  data::DataLoader b(d.x, d.y, {.batch_size = 8, .shuffle = true, .seed = 1, .prefetch = 2});
  data::DataLoader c(d.x, d.y, {.batch_size = 8, .shuffle = true, .seed = 2});
  const auto a0 = epoch_labels(a, 0), a1 = epoch_labels(a, 1);
  EXPECT_EQ(epoch_labels(b, 0), a0);  // prefetching changes nothing
  EXPECT_EQ(epoch_labels(b, 1), a1);
  EXPECT_NE(a0, a1);                  // a new order each epoch
  EXPECT_NE(epoch_labels(c, 0), a0);  // and per seed
  EXPECT_EQ(epoch_labels(a, 0), a0);  // replaying an epoch gives it again
  EXPECT_EQ(flat(a0), a.permutation(0));
  EXPECT_EQ(a.batch(1, 2).y.to_vector<std::int64_t>(), a1[2]);
  // Restarting in the middle of an epoch starts it over.
  a.start_epoch(3);
  const auto first = a.next()->y.to_vector<std::int64_t>();
  (void)a.next();
  a.start_epoch(3);
  EXPECT_EQ(a.next()->y.to_vector<std::int64_t>(), first);
  // Without shuffle the order is the data set's.
  data::DataLoader plain(d.x, d.y, {.batch_size = 8});
  std::vector<std::int64_t> want(50);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(flat(epoch_labels(plain, 4)), want);
}

// Each of the 3! orders of 3 samples should be equally likely. 6000 epochs: each count is
// Binomial(6000, 1/6), sd ≈ 28.9; ±6 sd is a bound a correct shuffle does not miss (p < 1e-8),
// while Lemire's multiply-shift without rejection or a modulo would still pass here — the
// 2³² denominators are too large to show in 6000 draws — so this guards against gross errors
// (a wrong Fisher–Yates bound makes some orders impossible or twice as likely).
TEST(DataLoader, ShuffleIsUniform) {
  const Toy d = toy(3);
  data::DataLoader loader(d.x, d.y, {.batch_size = 3, .shuffle = true, .seed = 99});
  std::map<std::vector<std::int64_t>, int> counts;
  for (std::int64_t e = 0; e < 6000; ++e) ++counts[loader.permutation(e)];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [perm, count] : counts) EXPECT_NEAR(count, 1000, 6 * 28.9);
}

TEST(DataLoader, MnistSplitAndDevices) {
  data::MnistSplit split;
  split.n = 5;
  split.rows = 2;
  split.cols = 3;
  for (int i = 0; i < 30; ++i) split.images.push_back(static_cast<float>(i) / 30.0f);
  split.labels = {3, 1, 4, 1, 5};
  data::DataLoader loader(split, {.batch_size = 2});
  const data::Batch b = *loader.epoch(0).begin();
  EXPECT_EQ(b.x.shape(), (gnm::Shape{2, 6}));
  EXPECT_EQ(b.y.to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 1}));
  EXPECT_FLOAT_EQ(b.x.to_vector<float>()[7], 7.0f / 30.0f);
  // Higher-rank samples keep their shape; an empty data set has no batches.
  const Tensor images = gnm::zeros({4, 1, 2, 2});
  const Tensor labels = gnm::zeros({4}, {.dtype = gnm::DType::i64});
  data::DataLoader nchw(images, labels, {.batch_size = 3});
  EXPECT_EQ(nchw.batch(0, 1).x.shape(), (gnm::Shape{1, 1, 2, 2}));
  data::DataLoader none(gnm::zeros({0, 3}), gnm::zeros({0}, {.dtype = gnm::DType::i64}),
                        {.batch_size = 4, .shuffle = true});
  EXPECT_EQ(none.num_batches(), 0);
  EXPECT_FALSE(none.epoch(0).begin() != none.epoch(0).end());
}

TEST(DataLoader, BadInputIsAnError) {
  const Toy d = toy(10);
  EXPECT_THROW(data::DataLoader(d.x, d.y, {.batch_size = 0}), gnm::Error);
  EXPECT_THROW(data::DataLoader(d.x, d.y, {.batch_size = -3}), gnm::Error);
  EXPECT_THROW(data::DataLoader(d.x, d.y.slice(0, 0, 9), {}), gnm::ShapeError);
  EXPECT_THROW(data::DataLoader(d.x, d.y.view({2, 5}), {}), gnm::ShapeError);
  EXPECT_THROW(data::DataLoader(gnm::scalar_tensor(1.0), d.y, {}), gnm::Error);
  EXPECT_THROW(data::DataLoader(Tensor(), d.y, {}), gnm::Error);
  data::DataLoader loader(d.x, d.y, {.batch_size = 4});
  EXPECT_THROW((void)loader.next(), gnm::Error);  // no epoch started
  EXPECT_THROW(loader.start_epoch(-1), gnm::Error);
  EXPECT_THROW((void)loader.batch(0, 3), gnm::Error);
  EXPECT_THROW((void)loader.permutation(-1), gnm::Error);
}

}  // namespace
