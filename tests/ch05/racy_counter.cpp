// A deliberately racy program: two threads increment one plain `long` without synchronisation.
// It is built and run only in the tsan preset (tests/ch05/CMakeLists.txt), where the test passes
// only if ThreadSanitizer prints "WARNING: ThreadSanitizer: data race" — proof that the TSan
// build really detects races, so its clean runs of the chapter 5 tests mean something. The
// program prints nothing that could match by itself.
//
// In C++ this compiles without a word; in Rust the same code does not compile, because a `&mut`
// cannot be shared between threads (Send/Sync): chapter 5.4 of the book.
#include <cstdio>
#include <thread>

namespace {

//! [racy]
long counter = 0;  // shared, not atomic, no lock: every ++ from two threads is a data race

void add_many() {
  for (int i = 0; i < 100000; ++i) ++counter;  // load, add, store: two threads interleave them
}
//! [racy]

}  // namespace

int main() {
  std::thread a(add_many);
  std::thread b(add_many);
  a.join();
  b.join();
  // Usually less than 200000 (lost updates) when the race is not caught; under TSan the report
  // above matters, not this number.
  std::printf("counter = %ld (200000 without lost updates)\n", counter);
  return 0;
}
