// Exercise 8.1a: the chunk plan of the stream pipeline (see exercises/ch08/pipeline.hpp).
#include "pipeline.hpp"

#include <cmath>

#include "gnm/core/check.hpp"

namespace gnm::ch08 {

//! [plan_chunks]
std::vector<Chunk> plan_chunks(std::int64_t n, std::int64_t chunk_elems) {
  // BEGIN SOLUTION("ex 8.1", "check n >= 0 and chunk_elems >= 1 with GNM_CHECK, then emit {offset, min(chunk_elems, n - offset)} for offset = 0, chunk_elems, ... while offset < n (compare n - offset with chunk_elems, never offset + chunk_elems with n: that could overflow)")
  GNM_CHECK(n >= 0, "the number of elements cannot be negative", n);
  GNM_CHECK(chunk_elems >= 1, "a chunk holds at least one element", chunk_elems);
  std::vector<Chunk> chunks;
  chunks.reserve(static_cast<std::size_t>(n / chunk_elems + (n % chunk_elems != 0 ? 1 : 0)));
  // `n - offset` is what is left; it never overflows, while offset + chunk_elems could for n
  // near INT64_MAX.
  for (std::int64_t offset = 0; offset < n;) {
    const std::int64_t left = n - offset;
    const std::int64_t count = left < chunk_elems ? left : chunk_elems;
    chunks.push_back(Chunk{offset, count});
    offset += count;
  }
  return chunks;
  // END SOLUTION
}
//! [plan_chunks]

float pipeline_work_reference(float x, const PipelineWork& work) {
  for (int r = 0; r < work.iters; ++r) x = std::fmaf(x, work.a, work.b);
  return x;
}

}  // namespace gnm::ch08
