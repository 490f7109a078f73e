// What the emulated kernel tests share: the ThreadSanitizer switch for smaller size sets, random
// inputs, poisoned guard zones, and a launch callable for the engine's launch_* functions. Include
// it after cuda_host_emulator.hpp.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/random.hpp"

namespace gnm::emu::test {

/// True in the ThreadSanitizer build, whose barrier phases are slow: tests pick fewer sizes.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderTsan = true;
#else
inline constexpr bool kUnderTsan = false;
#endif

/// n floats uniform in [lo, hi) from Philox stream `seed` (never zeros).
inline std::vector<float> random_floats(std::int64_t n, std::uint64_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::vector<float> v(static_cast<std::size_t>(n));
  if (n > 0) gnm::fill_uniform(v, seed, lo, hi);
  return v;
}

/// True when every element of buf from index n on still equals `poison`.
template <class T>
bool guard_clean(const std::vector<T>& buf, std::size_t n, T poison) {
  return std::all_of(buf.begin() + static_cast<std::ptrdiff_t>(n), buf.end(),
                     [poison](T v) { return v == poison; });
}

/// n values of T followed by a poisoned guard zone of 64 (compared bit for bit, so NaN works).
template <class T>
class Guarded {
 public:
  explicit Guarded(std::int64_t n, T poison = T(-777))
      : n_(n), poison_(poison), v_(static_cast<std::size_t>(n) + 64, poison) {}
  T* data() { return v_.data(); }
  T operator[](std::int64_t i) const { return v_[static_cast<std::size_t>(i)]; }
  T& at(std::int64_t i) { return v_[static_cast<std::size_t>(i)]; }
  bool guard_clean() const {
    for (std::size_t i = static_cast<std::size_t>(n_); i < v_.size(); ++i) {
      if (std::memcmp(&v_[i], &poison_, sizeof(T)) != 0) return false;
    }
    return true;
  }

 private:
  std::int64_t n_;
  T poison_;
  std::vector<T> v_;
};

/// The `launch` callable of the engine's launch_* functions (see CudaLaunch in loops.cuh): runs
/// the kernel through emu_launch, with gridDim.x capped at max_grid to make grid-stride loops turn.
struct EmuLaunch {
  unsigned max_grid = UINT_MAX;
  int* small_launches = nullptr;  ///< when set, counts launches with 32-thread blocks
  template <class Kernel, class... Args>
  void operator()(Kernel kernel, dim3 grid, dim3 block, Args... args) const {
    grid.x = std::min(grid.x, max_grid);
    if (small_launches != nullptr && block.x == 32) ++*small_launches;
    gnm::emu::emu_launch(grid, block, kernel, args...);
  }
};

}  // namespace gnm::emu::test
