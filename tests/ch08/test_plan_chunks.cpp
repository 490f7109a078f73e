// Exercise 8.1a: the chunk plan of the stream pipeline (CPU; runs everywhere).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "pipeline.hpp"

using gnm::ch08::Chunk;
using gnm::ch08::plan_chunks;

namespace {

// The defining properties: chunks in order, back to back, each 1..chunk_elems long, all but the
// last exactly chunk_elems, covering [0, n).
void expect_exact_cover(const std::vector<Chunk>& chunks, std::int64_t n, std::int64_t chunk) {
  std::int64_t next = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].offset, next) << "chunk " << i << " of n = " << n << ", chunk = " << chunk;
    EXPECT_GE(chunks[i].count, 1) << "chunk " << i;
    EXPECT_LE(chunks[i].count, chunk) << "chunk " << i;
    if (i + 1 < chunks.size()) {
      EXPECT_EQ(chunks[i].count, chunk) << "chunk " << i;
    }
    next = chunks[i].offset + chunks[i].count;
  }
  EXPECT_EQ(next, n) << "the chunks of n = " << n << ", chunk = " << chunk << " end at " << next;
}

std::string message_of(std::int64_t n, std::int64_t chunk) {
  try {
    (void)plan_chunks(n, chunk);
  } catch (const gnm::NotImplemented&) {
    return "exercise not written yet";
  } catch (const gnm::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Ch08PlanChunks, EmptyArrayHasNoChunks) {
  EXPECT_TRUE(plan_chunks(0, 1).empty());
  EXPECT_TRUE(plan_chunks(0, 4096).empty());
}

TEST(Ch08PlanChunks, ShortArrayIsOneChunk) {
  EXPECT_EQ(plan_chunks(1, 1), (std::vector<Chunk>{{0, 1}}));
  EXPECT_EQ(plan_chunks(7, 100), (std::vector<Chunk>{{0, 7}}));
  EXPECT_EQ(plan_chunks(100, 100), (std::vector<Chunk>{{0, 100}}));
}

TEST(Ch08PlanChunks, ExactMultiplesGiveEqualChunks) {
  EXPECT_EQ(plan_chunks(12, 4), (std::vector<Chunk>{{0, 4}, {4, 4}, {8, 4}}));
  EXPECT_EQ(plan_chunks(5, 1), (std::vector<Chunk>{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}}));
  const auto chunks = plan_chunks(std::int64_t{1} << 24, std::int64_t{1} << 20);
  ASSERT_EQ(chunks.size(), 16u);
  expect_exact_cover(chunks, std::int64_t{1} << 24, std::int64_t{1} << 20);
}

TEST(Ch08PlanChunks, RemainderGoesToTheLastChunk) {
  EXPECT_EQ(plan_chunks(10, 4), (std::vector<Chunk>{{0, 4}, {4, 4}, {8, 2}}));
  EXPECT_EQ(plan_chunks(101, 50), (std::vector<Chunk>{{0, 50}, {50, 50}, {100, 1}}));
  for (std::int64_t n : {1, 2, 3, 31, 32, 33, 1000, 4099, 100003}) {
    for (std::int64_t chunk : {1, 2, 3, 7, 32, 1000, 4096, 100003, 200000}) {
      if (n / chunk > 20000) continue;  // keep the test fast
      const auto chunks = plan_chunks(n, chunk);
      EXPECT_EQ(static_cast<std::int64_t>(chunks.size()), (n + chunk - 1) / chunk)
          << "n = " << n << ", chunk = " << chunk;
      expect_exact_cover(chunks, n, chunk);
    }
  }
}

TEST(Ch08PlanChunks, HugeSizesDoNotOverflow) {
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  // offset + chunk would pass INT64_MAX for the last chunk: the plan must not compute it.
  const auto chunks = plan_chunks(big, big / 2 + 1);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], (Chunk{0, big / 2 + 1}));
  EXPECT_EQ(chunks[1], (Chunk{big / 2 + 1, big - (big / 2 + 1)}));
  EXPECT_EQ(plan_chunks(big, big), (std::vector<Chunk>{{0, big}}));
  EXPECT_EQ(plan_chunks(5, big), (std::vector<Chunk>{{0, 5}}));
}

TEST(Ch08PlanChunks, BadArgumentsAreErrorsNamingTheValue) {
  EXPECT_NE(message_of(-3, 4).find("n = -3"), std::string::npos) << message_of(-3, 4);
  EXPECT_NE(message_of(10, 0).find("chunk_elems = 0"), std::string::npos) << message_of(10, 0);
  EXPECT_NE(message_of(10, -8).find("chunk_elems = -8"), std::string::npos) << message_of(10, -8);
  EXPECT_NE(message_of(0, 0).find("chunk_elems = 0"), std::string::npos) << message_of(0, 0);
}
