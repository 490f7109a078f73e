#include "alloc_workload.hpp"

#include <cmath>

#include "gnm/core/philox.hpp"

namespace chapter5 {

std::vector<std::size_t> tensor_sizes(std::size_t count, std::uint64_t seed) {
  const gnm::PhiloxRng rng(seed);
  std::vector<std::size_t> sizes(count);
  for (std::size_t i = 0; i < count; ++i) {
    // 2^u bytes with u uniform in [6, 16]: log-uniform between 64 B and 64 KiB.
    const float u = rng.uniform(i, 6.0f, 16.0f);
    sizes[i] = static_cast<std::size_t>(std::exp2(u));
  }
  return sizes;
}

}  // namespace chapter5
