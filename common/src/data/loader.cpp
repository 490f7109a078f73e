// DataLoader: deterministic shuffling (Philox Fisher–Yates per epoch), row gathers into fresh
// batch tensors, and optional prefetching through gnm::PrefetchLoader.
//
// Note [Unbiased shuffle]
// Fisher–Yates needs a uniform integer in [0, i] for i = N−1 … 1. Scaling a 32-bit draw by
// (i + 1) and keeping the high half (Lemire's multiply-shift) is biased by up to (i+1)/2³²; the
// rejection step below removes that bias exactly, at the cost of an extra draw with probability
// below (i+1)/2³² (never, in practice, for N = 60 000). The draws are elements 0, 1, 2, … of the
// Philox stream (seed, epoch), consumed in order, so the permutation is a pure function of
// (seed, epoch, N) and costs ~N Philox elements (60 000: well under a millisecond).
#include "gnm/data/loader.hpp"

#include <cstring>
#include <limits>
#include <numeric>

#include "gnm/core/check.hpp"
#include "gnm/core/philox.hpp"
#include "gnm/core/prefetch_loader.hpp"

namespace gnm::data {

namespace {

std::vector<std::int64_t> make_permutation(std::int64_t n, bool shuffle, std::uint64_t seed,
                                           std::int64_t epoch) {
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), std::int64_t{0});
  if (!shuffle || n < 2) return perm;
  const PhiloxRng rng(seed, static_cast<std::uint64_t>(epoch));
  std::uint64_t next = 0;
  for (std::int64_t i = n - 1; i >= 1; --i) {
    const auto range = static_cast<std::uint64_t>(i) + 1;  // <= 2^32, checked by the constructor
    std::uint64_t m = std::uint64_t{rng.bits(next++)} * range;
    auto low = static_cast<std::uint32_t>(m);
    if (low < range) {
      const std::uint64_t threshold = (std::uint64_t{1} << 32) % range;  // 2^32 mod range
      while (low < threshold) {
        m = std::uint64_t{rng.bits(next++)} * range;
        low = static_cast<std::uint32_t>(m);
      }
    }
    const auto j = static_cast<std::size_t>(m >> 32);
    std::swap(perm[static_cast<std::size_t>(i)], perm[j]);
  }
  return perm;
}

// Copies rows perm[begin..end) of `src` (contiguous, first dim N) into a new (end − begin, …)
// tensor.
Tensor gather_rows(const Tensor& src, const std::vector<std::int64_t>& perm, std::int64_t begin,
                   std::int64_t end) {
  Shape shape = src.shape();
  shape[0] = end - begin;
  Tensor out = empty(shape, {.dtype = src.dtype()});
  const std::size_t row =
      static_cast<std::size_t>(src.numel() / std::max<std::int64_t>(src.size(0), 1)) *
      src.element_size();
  if (row == 0) return out;
  const auto* s = static_cast<const std::byte*>(src.data_ptr());
  auto* d = static_cast<std::byte*>(out.data_ptr());
  for (std::int64_t k = begin; k < end; ++k) {
    const auto r = static_cast<std::size_t>(perm[static_cast<std::size_t>(k)]);
    std::memcpy(d + static_cast<std::size_t>(k - begin) * row, s + r * row, row);
  }
  return out;
}

Tensor flat_images(const MnistSplit& split) {
  return from_vector(std::span<const float>(split.images), {split.n, split.rows * split.cols});
}

}  // namespace

DataLoader::DataLoader(const Tensor& images, const Tensor& labels, const LoaderOptions& options)
    : opts_(options) {
  GNM_CHECK(options.batch_size >= 1, "DataLoader: batch_size must be >= 1", options.batch_size);
  GNM_CHECK(images.defined() && labels.defined(), "DataLoader: images and labels are required");
  GNM_CHECK(!images.is_cuda() && !labels.is_cuda(),
            "DataLoader: the data set must be on the CPU (batches move to options.device)",
            images.device().str(), labels.device().str());
  GNM_CHECK(images.dim() >= 1, "DataLoader: images need a sample dimension",
            shape_str(images.shape()));
  n_ = images.size(0);
  GNM_CHECK_SHAPE(labels.dim() == 1 && labels.size(0) == n_,
                  "DataLoader: labels must be (N) for images (N, …)", shape_str(labels.shape()),
                  shape_str(images.shape()));
  GNM_CHECK(static_cast<std::uint64_t>(n_) <= (std::uint64_t{1} << 32),
            "DataLoader: at most 2^32 samples", n_);
  images_ = images.detach().contiguous();
  labels_ = labels.detach().contiguous();
  num_batches_ = opts_.drop_last ? n_ / opts_.batch_size
                                 : (n_ + opts_.batch_size - 1) / opts_.batch_size;
  if (opts_.prefetch > 0) {
    // The loader thread keeps its own permutation cache: it makes batches 0, 1, … of one epoch in
    // order, so the permutation is computed once per epoch, on that thread only.
    struct Cache {
      std::int64_t epoch = -1;
      std::vector<std::int64_t> perm;
    };
    auto cache = std::make_shared<Cache>();
    prefetch_ = std::make_unique<PrefetchLoader<Batch>>(
        num_batches_, opts_.prefetch, [this, cache](std::int64_t epoch, std::int64_t index) {
          if (cache->epoch != epoch) {
            cache->perm = permutation(epoch);
            cache->epoch = epoch;
          }
          const std::int64_t begin = index * opts_.batch_size;
          const std::int64_t end = std::min(begin + opts_.batch_size, n_);
          return Batch{gather_rows(images_, cache->perm, begin, end).to(opts_.device),
                       gather_rows(labels_, cache->perm, begin, end).to(opts_.device)};
        });
  }
}

DataLoader::DataLoader(const MnistSplit& split, const LoaderOptions& options)
    : DataLoader(flat_images(split),
                 from_vector(std::span<const std::int64_t>(split.labels), {split.n}), options) {}

DataLoader::~DataLoader() = default;

std::vector<std::int64_t> DataLoader::permutation(std::int64_t epoch) const {
  GNM_CHECK(epoch >= 0, "DataLoader: epochs are numbered from 0", epoch);
  return make_permutation(n_, opts_.shuffle, opts_.seed, epoch);
}

Batch DataLoader::batch(std::int64_t epoch, std::int64_t index) const {
  GNM_CHECK(index >= 0 && index < num_batches_, "DataLoader: batch index out of range", index,
            num_batches_);
  const std::vector<std::int64_t> perm = permutation(epoch);
  const std::int64_t begin = index * opts_.batch_size;
  const std::int64_t end = std::min(begin + opts_.batch_size, n_);
  return {gather_rows(images_, perm, begin, end).to(opts_.device),
          gather_rows(labels_, perm, begin, end).to(opts_.device)};
}

void DataLoader::start_epoch(std::int64_t epoch) {
  GNM_CHECK(epoch >= 0, "DataLoader: epochs are numbered from 0", epoch);
  epoch_ = epoch;
  next_index_ = 0;
  if (prefetch_) {
    prefetch_->start_epoch(epoch);
  } else {
    perm_ = permutation(epoch);
  }
}

std::optional<Batch> DataLoader::next() {
  GNM_CHECK(epoch_ >= 0, "DataLoader::next: call start_epoch() (or epoch()) first");
  if (prefetch_) return prefetch_->next();
  if (next_index_ >= num_batches_) return std::nullopt;
  const std::int64_t begin = next_index_ * opts_.batch_size;
  const std::int64_t end = std::min(begin + opts_.batch_size, n_);
  ++next_index_;
  return Batch{gather_rows(images_, perm_, begin, end).to(opts_.device),
               gather_rows(labels_, perm_, begin, end).to(opts_.device)};
}

DataLoader::EpochRange DataLoader::epoch(std::int64_t epoch) {
  start_epoch(epoch);
  return EpochRange(this);
}

DataLoader::Iterator::Iterator(DataLoader* loader) : loader_(loader), current_(loader->next()) {}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  current_ = loader_->next();
  return *this;
}

}  // namespace gnm::data
