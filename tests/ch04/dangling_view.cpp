// The ASan self-test of section 4.1: a view that outlives its storage. Built and run only with
// -fsanitize=address (tests/ch04/CMakeLists.txt); the test passes when ASan reports a
// heap-use-after-free on the read below. Without ASan this program has undefined behaviour.
#include <algorithm>
#include <cstdio>
#include <span>

#include "gnm/core/aligned_buffer.hpp"

//! [dangling]
float read_through_dangling_view() {
  std::span<const float> view;
  {
    gnm::AlignedBuffer<float> storage(1024);
    std::fill(storage.begin(), storage.end(), 1.0f);
    view = storage.span();  // a borrow of storage...
  }                         // ...which dies here; the span cannot know
  return view[10];          // reads freed memory: ASan stops the program on this line
}
//! [dangling]

int main() {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
  volatile float value = read_through_dangling_view();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  std::printf("read %g through a dangling view: AddressSanitizer did not stop it\n",
              static_cast<double>(value));
  return 0;
}
