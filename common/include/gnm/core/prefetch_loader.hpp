/// \file
/// PrefetchLoader<Batch>: a background thread makes the next batches while the consumer computes.
///
/// Training alternates two kinds of work: *loading* a batch (read, decode, augment) and
/// *computing* on it (forward, backward, update). Done one after the other, a step costs
/// load + compute; with the loading moved to its own thread and a few finished batches queued
/// ahead, a step costs max(load, compute) once the queue is primed (chapter 5.2 measures both).
///
/// \code
/// // Batch i of epoch e is a pure function of (e, i): the order and the contents never depend on
/// // timing, so a run with prefetching is bit for bit the run without it.
/// gnm::PrefetchLoader<Batch> loader(num_batches, /*depth=*/4,
///                                   [&](std::int64_t epoch, std::int64_t i) {
///                                     return decode_and_augment(dataset, epoch, i);
///                                   });
/// for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
///   loader.start_epoch(epoch);
///   while (auto batch = loader.next()) train_step(*batch);
/// }
/// \endcode
///
/// Threading model (see Note [One loader thread]): one loader thread per epoch calls the producer
/// for batches 0, 1, …, num_batches − 1 in order and sends them through a bounded gnm::Channel of
/// `depth` batches. Ownership of each batch moves through the channel, so the consumer never
/// shares a batch with the loader. The consumer side (start_epoch, next, stop and the getters) is
/// meant for one thread; the loader object itself is not safe to call from several threads at once.
///
/// Shutdown: stop(), start_epoch() and the destructor close the channel, which wakes the loader if
/// it waits for room, and join it. A batch the loader is making at that moment is finished first
/// (the producer is never interrupted), then dropped, so stopping waits for at most one batch.
///
/// Errors: when the producer throws for batch i, the batches before i are still delivered, and
/// the next() after them throws a gnm::Error naming the batch and the epoch, with the producer's
/// exception nested in it (std::rethrow_if_nested recovers it). The epoch then is over.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "gnm/core/channel.hpp"
#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"

namespace gnm {

// Note [One loader thread]: a single producer thread keeps the order deterministic for free (a
// FIFO channel fed by one thread delivers batch i as the i-th value) and needs no reordering
// buffer. Several loader threads pay off only when one core cannot decode as fast as the model
// computes; on the 2-core machines of this book one loader beside one compute thread is the
// balanced split, and a parallel decoder can run inside the producer (a ThreadPool) if needed.

/// Loads batches on a background thread, `depth` batches ahead of the consumer; see the file
/// comment for the threading model, shutdown and errors. Not copyable or movable (its thread
/// refers to it).
template <class Batch>
class PrefetchLoader {
  static_assert(std::is_move_constructible_v<Batch>, "a batch moves through a channel");

 public:
  /// The producer as stored: makes batch `index` of epoch `epoch`.
  using Producer = std::function<Batch(std::int64_t epoch, std::int64_t index)>;

  /// A loader for epochs of `num_batches` batches (>= 0) that keeps up to `depth` (>= 1)
  /// finished batches queued. `produce` is a copyable callable taking `(epoch, index)` or just
  /// `(index)` and returning a Batch; it runs on the loader thread only, for one batch at a time,
  /// in increasing index order, and must not share unsynchronised state with the consumer.
  /// Nothing is loaded before start_epoch(). Throws gnm::Error naming a bad count or depth.
  template <class F>
  PrefetchLoader(std::int64_t num_batches, std::size_t depth, F produce)
      : num_batches_(num_batches), depth_(depth), produce_(wrap(std::move(produce))) {
    GNM_CHECK(num_batches >= 0, "PrefetchLoader: the number of batches must be >= 0",
              num_batches);
    GNM_CHECK(depth >= 1, "PrefetchLoader: the queue depth must be >= 1", depth);
  }

  /// Stops the loader thread (see stop()).
  ~PrefetchLoader() { stop(); }

  PrefetchLoader(const PrefetchLoader&) = delete;             ///< Owns a thread that points to it.
  PrefetchLoader& operator=(const PrefetchLoader&) = delete;  ///< Owns a thread that points to it.

  /// Starts loading epoch `epoch` (>= 0; gnm::Error naming it otherwise) from batch 0. A running
  /// epoch is stopped first and its queued batches are dropped, so an epoch can be restarted or
  /// abandoned at any point.
  void start_epoch(std::int64_t epoch) {
    GNM_CHECK(epoch >= 0, "PrefetchLoader::start_epoch: epochs are numbered from 0", epoch);
    stop();
    epoch_ = epoch;
    delivered_ = 0;
    error_ = nullptr;
    error_index_ = -1;
    channel_ = std::make_unique<Channel<Batch>>(depth_);
    try {
      thread_ = std::thread([this, ch = channel_.get(), epoch] { load(*ch, epoch); });
    } catch (...) {
      channel_.reset();  // no thread: next() must not wait on a channel nobody feeds
      throw;
    }
  }

  /// The next batch of the current epoch, in index order, waiting for the loader if it is
  /// behind; std::nullopt once the epoch's batches have all been delivered or after stop().
  /// Rethrows a producer failure as described in the file comment. Throws gnm::Error when no
  /// epoch was ever started.
  std::optional<Batch> next() {
    GNM_CHECK(epoch_ >= 0, "PrefetchLoader::next: call start_epoch() first", epoch_);
    if (!channel_) return std::nullopt;  // stopped
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<Batch> batch = channel_->receive();
    wait_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    if (batch) {
      ++delivered_;
      return batch;
    }
    // Closed and drained: the loader has finished (or failed) and closed the channel, and the
    // receive above synchronised with that close, so error_ is safe to read after the join.
    if (thread_.joinable()) thread_.join();
    if (error_) rethrow_producer_error(std::exchange(error_, nullptr));
    return std::nullopt;
  }

  /// Stops the current epoch: closes the channel (waking the loader if it waits for room), waits
  /// for the batch in progress, joins the thread and drops queued batches. Idempotent; next()
  /// returns std::nullopt until the next start_epoch().
  void stop() noexcept {
    if (channel_) channel_->close();
    if (thread_.joinable()) thread_.join();
    channel_.reset();
  }

  /// Batches per epoch.
  std::int64_t num_batches() const noexcept { return num_batches_; }
  /// Most finished batches queued ahead of the consumer.
  std::size_t depth() const noexcept { return depth_; }
  /// The epoch last passed to start_epoch(); −1 before the first.
  std::int64_t epoch() const noexcept { return epoch_; }
  /// Batches next() has returned in the current epoch.
  std::int64_t delivered() const noexcept { return delivered_; }
  /// Total milliseconds the consumer has spent waiting inside next(), over all epochs: near 0
  /// when loading keeps up with compute, about num_batches · (load − compute) when it does not.
  double wait_ms() const noexcept { return wait_ms_; }

 private:
  template <class F>
  static Producer wrap(F f) {
    if constexpr (std::is_invocable_r_v<Batch, F&, std::int64_t, std::int64_t>) {
      return Producer(std::move(f));
    } else {
      static_assert(std::is_invocable_r_v<Batch, F&, std::int64_t>,
                    "the producer must be callable as produce(epoch, index) or produce(index) "
                    "and return a Batch");
      return [f = std::move(f)](std::int64_t, std::int64_t index) mutable { return f(index); };
    }
  }

  // The loader thread: batches 0 … n−1 of `epoch` into `ch`, then close. It touches only `ch`,
  // the (immutable) producer and count, and error_/error_index_, which it writes before close().
  void load(Channel<Batch>& ch, std::int64_t epoch) noexcept {
    std::int64_t index = 0;
    try {
      for (; index < num_batches_; ++index) {
        if (ch.closed()) break;  // the consumer stopped: make nothing nobody will read
        if (!ch.send(produce_(epoch, index))) break;  // closed while waiting for room
      }
    } catch (...) {
      error_ = std::current_exception();
      error_index_ = index;
    }
    ch.close();  // end of epoch: the consumer drains what is queued, then sees the end
  }

  [[noreturn]] void rethrow_producer_error(std::exception_ptr error) const {
    const std::string where = "PrefetchLoader: making batch " + std::to_string(error_index_) +
                              " of epoch " + std::to_string(epoch_) + " failed: ";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::throw_with_nested(Error(where + e.what(), __FILE__, __LINE__));
    } catch (...) {
      std::throw_with_nested(Error(where + "an exception not derived from std::exception",
                                   __FILE__, __LINE__));
    }
  }

  const std::int64_t num_batches_;
  const std::size_t depth_;
  const Producer produce_;
  std::unique_ptr<Channel<Batch>> channel_;  // the current epoch's queue; null when stopped
  std::thread thread_;
  std::int64_t epoch_ = -1;
  std::int64_t delivered_ = 0;
  double wait_ms_ = 0;
  // Written by the loader thread before it closes the channel; read after the join.
  std::exception_ptr error_;
  std::int64_t error_index_ = -1;
};

}  // namespace gnm
