// Section 4.1: ownership, borrowing and lifetimes in C++.
//
// Rust's three ways to hold data map onto three C++ types here:
//   Box<[f32]> / Vec<f32>    the one owner          gnm::AlignedBuffer (move-only), Storage
//   Arc<[f32]> + a range     a shared owner         SharedView (std::shared_ptr<Storage>)
//   Weak<[f32]>              knows if the owner died WeakView (std::weak_ptr<Storage>)
//   &[f32]                   a borrow               std::span<float> (no owner, no check)
// The rule Rust's borrow checker enforces at compile time, "a borrow never outlives its owner",
// is in C++ a rule of the design: a std::span must not outlive its Storage. Where the lifetime is
// not obvious, hold a SharedView (pays an atomic count) or a WeakView (detects the death).
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "gnm/core/aligned_buffer.hpp"

namespace ch04 {

/// A block of floats with one owner, shared by holding it through std::shared_ptr.
class Storage {
 public:
  /// `n` zero floats.
  explicit Storage(std::size_t n);
  /// Every element.
  std::span<float> span() noexcept { return buffer_.span(); }
  /// Number of elements.
  std::size_t size() const noexcept { return buffer_.size(); }

 private:
  gnm::AlignedBuffer<float> buffer_;
};

/// Elements [offset, offset + size) of a Storage, which the view keeps alive.
class SharedView {
 public:
  /// Shares `storage`; gnm::ShapeError naming the range unless it lies inside the storage, and
  /// gnm::Error for a null storage.
  SharedView(std::shared_ptr<Storage> storage, std::size_t offset, std::size_t size);
  /// The elements: valid as long as this view (or another owner) lives.
  std::span<float> span() const noexcept { return storage_->span().subspan(offset_, size_); }
  /// How many owners the storage has now (this view included).
  long owners() const noexcept { return storage_.use_count(); }

 private:
  std::shared_ptr<Storage> storage_;
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
};

/// Elements [offset, offset + size) of a Storage that this view does not keep alive, but whose
/// death it can detect.
class WeakView {
 public:
  /// Observes `storage`; the same range checks as SharedView.
  WeakView(const std::shared_ptr<Storage>& storage, std::size_t offset, std::size_t size);
  /// A SharedView while the storage lives; gnm::Error "the storage of this view was freed" after.
  SharedView lock() const;
  /// True once the last owner of the storage is gone.
  bool expired() const noexcept { return storage_.expired(); }

 private:
  std::weak_ptr<Storage> storage_;
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
};

}  // namespace ch04
