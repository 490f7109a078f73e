/// \file
/// DataLoader (chapter 10.1): mini-batches of (x, y) tensors from an in-memory data set, shuffled
/// with a Philox permutation that depends only on (seed, epoch), optionally made ahead of time on
/// a background thread (gnm::PrefetchLoader).
///
/// \code
/// const auto train = gnm::data::load_mnist_split(gnm::data::default_fashion_mnist_dir(), "train");
/// gnm::data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 42,
///                                      .prefetch = 4});
/// for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
///   for (const gnm::data::Batch& b : loader.epoch(epoch)) {
///     // b.x (B, 784) f32, b.y (B) i64
///   }
/// }
/// \endcode
///
/// Batch i of epoch e is a pure function of (seed, e, i): with or without prefetching, and after
/// a restart from a checkpoint at any epoch, the batches are the same.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gnm/data/idx.hpp"
#include "gnm/tensor/tensor.hpp"

namespace gnm {
template <class Batch>
class PrefetchLoader;
}  // namespace gnm

namespace gnm::data {

/// One mini-batch.
struct Batch {
  Tensor x;  ///< (B, …) the samples, in the data set's dtype.
  Tensor y;  ///< (B) the labels, in the labels' dtype (i64 for classification).
};

/// How a DataLoader batches and orders the data.
struct LoaderOptions {
  std::int64_t batch_size = 64;  ///< Samples per batch (>= 1).
  bool shuffle = false;          ///< A new permutation every epoch (else the data set's order).
  std::uint64_t seed = 0;        ///< The permutation of epoch e is Philox stream (seed, e).
  bool drop_last = false;        ///< Drop a last batch smaller than batch_size.
  /// Batches made ahead on a background thread; 0 makes each batch when it is asked for.
  std::size_t prefetch = 0;
  Device device = Device::cpu();  ///< Where the batches are put.
};

/// Batches over a data set of N samples: `images` (N, …) and `labels` (N). See the file comment.
/// Not thread-safe: one consumer iterates it.
class DataLoader {
 public:
  /// A loader over `images` (N, …) and `labels` (N) on the CPU (the loader keeps contiguous
  /// copies only when they are not contiguous already). gnm::Error for batch_size < 1, CUDA
  /// inputs, a 0-d images tensor; gnm::ShapeError when labels is not (N).
  DataLoader(const Tensor& images, const Tensor& labels, const LoaderOptions& options);
  /// A loader over an MNIST split: images (N, rows·cols) f32, labels (N) i64 (copies the data).
  DataLoader(const MnistSplit& split, const LoaderOptions& options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;             ///< Owns a loader thread.
  DataLoader& operator=(const DataLoader&) = delete;  ///< Owns a loader thread.

  /// The number of samples N.
  std::int64_t num_samples() const noexcept { return n_; }
  /// Batches per epoch: ⌈N / B⌉, or ⌊N / B⌋ with drop_last.
  std::int64_t num_batches() const noexcept { return num_batches_; }
  /// The options.
  const LoaderOptions& options() const noexcept { return opts_; }

  /// The order of the samples in epoch `epoch` (>= 0): the identity without shuffle, otherwise a
  /// Fisher–Yates shuffle driven by Philox stream (seed, epoch).
  std::vector<std::int64_t> permutation(std::int64_t epoch) const;
  /// Batch `index` of epoch `epoch`, made now on the calling thread (gnm::Error for an index out
  /// of range).
  Batch batch(std::int64_t epoch, std::int64_t index) const;

  /// Starts epoch `epoch` (>= 0) from its first batch (abandoning the one in progress).
  void start_epoch(std::int64_t epoch);
  /// The next batch of the current epoch, or std::nullopt at its end. gnm::Error before
  /// start_epoch().
  std::optional<Batch> next();

  /// An input iterator over the batches of the current epoch (see epoch()).
  class Iterator {
   public:
    const Batch& operator*() const { return *current_; }   ///< The batch.
    const Batch* operator->() const { return &*current_; }  ///< The batch.
    Iterator& operator++();                                  ///< Fetches the next batch.
    /// True when both are at the end (iterators compare only against end()).
    bool operator==(const Iterator& other) const { return !current_ && !other.current_; }

   private:
    friend class DataLoader;
    Iterator() = default;
    explicit Iterator(DataLoader* loader);
    DataLoader* loader_ = nullptr;
    std::optional<Batch> current_;
  };
  /// A range over one epoch, for range-for; made by epoch().
  class EpochRange {
   public:
    Iterator begin() { return Iterator(loader_); }  ///< Fetches the epoch's first batch.
    Iterator end() { return Iterator(); }           ///< The end.

   private:
    friend class DataLoader;
    explicit EpochRange(DataLoader* loader) : loader_(loader) {}
    DataLoader* loader_;
  };
  /// start_epoch(epoch) and a range over its batches: `for (const Batch& b : loader.epoch(e))`.
  EpochRange epoch(std::int64_t epoch);

 private:
  std::int64_t epoch_ = -1;
  std::int64_t next_index_ = 0;
  Tensor images_;  // contiguous, CPU
  Tensor labels_;  // contiguous, CPU
  std::int64_t n_ = 0;
  std::int64_t num_batches_ = 0;
  LoaderOptions opts_;
  std::vector<std::int64_t> perm_;  // the current epoch's order (without prefetching)
  std::unique_ptr<PrefetchLoader<Batch>> prefetch_;
};

}  // namespace gnm::data
