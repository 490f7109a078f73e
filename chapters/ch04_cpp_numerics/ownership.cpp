// Section 4.1: moves, shared storage, weak views, and the cost of each kind of view.
#include "ownership.hpp"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <utility>

#include "array2d.hpp"
#include "gnm/core/check.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/timer.hpp"
#include "sections.hpp"

namespace ch04 {

Storage::Storage(std::size_t n) : buffer_(n) {
  for (float& v : buffer_.span()) v = 0.0f;
}

namespace {
void check_range(const Storage& s, std::size_t offset, std::size_t size) {
  GNM_CHECK_SHAPE(offset <= s.size() && size <= s.size() - offset,
                  "view range outside its storage", offset, size, s.size());
}
}  // namespace

SharedView::SharedView(std::shared_ptr<Storage> storage, std::size_t offset, std::size_t size)
    : storage_(std::move(storage)), offset_(offset), size_(size) {
  GNM_CHECK(storage_ != nullptr, "a SharedView needs a storage");
  check_range(*storage_, offset, size);
}

WeakView::WeakView(const std::shared_ptr<Storage>& storage, std::size_t offset, std::size_t size)
    : storage_(storage), offset_(offset), size_(size) {
  GNM_CHECK(storage != nullptr, "a WeakView needs a storage");
  check_range(*storage, offset, size);
}

SharedView WeakView::lock() const {
  std::shared_ptr<Storage> s = storage_.lock();  // atomically: a new owner, or null if dead
  GNM_CHECK(s != nullptr, "the storage of this view was freed", offset_, size_);
  return SharedView(std::move(s), offset_, size_);
}

namespace {

// Nanoseconds per call of `fn`, the median over 5 runs of `iters` calls.
template <class Fn>
double ns_per_call(std::int64_t iters, Fn&& fn) {
  const double ms = gnm::median_time_ms(5, [&] {
    for (std::int64_t i = 0; i < iters; ++i) fn();
  }, 1);
  return ms * 1e6 / static_cast<double>(iters);
}

struct ViewCost {
  const char* kind;
  const char* rust;
  std::size_t bytes;
  bool owns;
  bool detects_dangling;
  double ns;
};

}  // namespace

SectionResult run_ownership(const Options& opt) {
  const bool quick = opt.quick;
  std::printf("== 4.1 Ownership, borrowing, lifetimes ==\n");
  bool ok = true;
  const std::size_t n = quick ? (1u << 18) : (1u << 24);  // 1 MiB or 64 MiB of floats

  //! [moves]
  gnm::AlignedBuffer<float> a(n);
  std::memset(a.data(), 0, a.bytes());
  float* const first = a.data();
  gnm::AlignedBuffer<float> b = std::move(a);  // two pointer-sized copies; no element moves
  // The moved-from buffer is empty, not dangling: its destructor will free nothing.
  const bool moved = a.empty() && a.data() == nullptr && b.data() == first && b.size() == n;
  //! [moves]
  ok = ok && moved;

  const double move_ns = ns_per_call(quick ? 100000 : 1000000, [&] {
    a = std::move(b);
    b = std::move(a);
    keep(b.data());
  }) / 2.0;
  const double copy_ms = gnm::median_time_ms(quick ? 3 : 5, [&] {
    gnm::AlignedBuffer<float> copy(b.size());  // what `let c = b.clone();` costs
    std::memcpy(copy.data(), b.data(), b.bytes());
    keep(copy.data());
  }, 1);
  std::printf("  move of a %zu-float buffer: %.1f ns; deep copy: %.3f ms (%.0fx)\n", n, move_ns,
              copy_ms, copy_ms * 1e6 / move_ns);
  std::printf("  moved-from buffer: empty = %s, data = %p\n", a.empty() ? "yes" : "no",
              static_cast<void*>(a.data()));

  //! [use_after_move]
  gnm::ch04::Array2D<float> m(3, 4);
  gnm::ch04::Array2D<float> owner = std::move(m);
  std::string use_after_move;
  try {
    m.at(0, 0) = 1.0f;  // m is 0 × 0 now: the checked accessor reports the use after the move
  } catch (const gnm::ShapeError& e) {
    use_after_move = e.what();
  }
  //! [use_after_move]
  ok = ok && !use_after_move.empty() && owner.rows() == 3;
  std::printf("  m.at(0, 0) after a move: %s\n", use_after_move.c_str());

  //! [shared]
  auto storage = std::make_shared<Storage>(1000);
  const SharedView head(storage, 0, 500);   // shares ownership (Arc)
  const WeakView tail(storage, 500, 500);   // observes (Weak)
  std::span<float> borrow = storage->span();  // borrows (&mut [f32]): valid while storage lives
  borrow[0] = 42.0f;
  storage.reset();  // the creator lets go; `head` still owns the block
  const bool head_alive = head.owners() == 1 && head.span()[0] == 42.0f;
  const bool tail_alive = !tail.expired() && tail.lock().span().size() == 500;
  //! [shared]
  ok = ok && head_alive && tail_alive;

  std::string weak_error;
  {
    auto s2 = std::make_shared<Storage>(16);
    const WeakView w(s2, 0, 16);
    s2.reset();  // last owner gone: the block is freed
    try {
      (void)w.lock();
    } catch (const gnm::Error& e) {
      weak_error = e.what();
    }
  }
  ok = ok && !weak_error.empty();
  std::printf("  head owners after the creator let go: %ld; tail.lock() after the last owner: %s\n",
              head.owners(), weak_error.c_str());

  // What each kind of view costs to make and drop (the counted ones touch an atomic counter).
  auto shared = std::make_shared<Storage>(64);
  const WeakView weak(shared, 0, 64);
  const std::int64_t iters = quick ? 200000 : 5000000;
  const ViewCost costs[] = {
      {"std::span", "&[f32]", sizeof(std::span<float>), false, false,
       ns_per_call(iters, [&] { keep(std::span<float>(shared->span())); })},
      {"SharedView", "Arc::clone", sizeof(SharedView), true, false,
       ns_per_call(iters, [&] { const SharedView v(shared, 0, 64); keep(v); })},
      {"WeakView::lock()", "Weak::upgrade", sizeof(WeakView), false, true,
       ns_per_call(iters, [&] { keep(weak.lock()); })},
  };
  std::printf("  %-20s %-14s %6s %5s %9s %8s\n", "view", "Rust", "bytes", "owns", "dangling?",
              "ns/make");
  for (const auto& c : costs) {
    std::printf("  %-20s %-14s %6zu %5s %9s %8.1f\n", c.kind, c.rust, c.bytes,
                c.owns ? "yes" : "no", c.detects_dangling ? "detects" : "no", c.ns);
  }
  std::printf("  ownership: %s\n\n", ok ? "ok" : "FAILED");

  std::ostringstream j;
  j << "{\"moves\": {\"elements\": " << n << ", \"move_ns\": " << gnm::json_number(move_ns)
    << ", \"deep_copy_ms\": " << gnm::json_number(copy_ms)
    << ", \"moved_from_empty\": " << (moved ? "true" : "false") << "}, \"views\": [";
  for (std::size_t i = 0; i < std::size(costs); ++i) {
    const auto& c = costs[i];
    j << (i ? ", " : "") << "{\"view\": " << gnm::json_quote(c.kind)
      << ", \"rust\": " << gnm::json_quote(c.rust) << ", \"bytes\": " << c.bytes
      << ", \"owns\": " << (c.owns ? "true" : "false")
      << ", \"detects_dangling\": " << (c.detects_dangling ? "true" : "false")
      << ", \"ns_per_make\": " << gnm::json_number(c.ns) << "}";
  }
  j << "], \"verified\": " << (ok ? "true" : "false") << "}";
  return {ok, j.str()};
}

}  // namespace ch04
