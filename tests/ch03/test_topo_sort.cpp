// Exercise 3.3: topological_order() — validity, reachability, determinism, fan-out, cycles, bad
// indices and a chain far deeper than any call stack. Every test calls it, so each fails on the
// generated stub.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gnm/core/error.hpp"
#include "topo_sort.hpp"

namespace {

using gnm::ch03::topological_order;
using Graph = std::vector<std::vector<std::int32_t>>;

// Every node appears once, after all of its inputs, and exactly the nodes reachable from root.
void expect_valid(const Graph& g, std::int32_t root, const std::vector<std::int32_t>& order) {
  std::vector<int> position(g.size(), -1);
  for (std::size_t i = 0; i < order.size(); ++i) {
    ASSERT_GE(order[i], 0);
    ASSERT_LT(static_cast<std::size_t>(order[i]), g.size());
    ASSERT_EQ(position[static_cast<std::size_t>(order[i])], -1) << "node " << order[i] << " twice";
    position[static_cast<std::size_t>(order[i])] = static_cast<int>(i);
  }
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.back(), root);
  // Reachable set by a plain search.
  std::set<std::int32_t> reach{root};
  std::vector<std::int32_t> todo{root};
  while (!todo.empty()) {
    const std::int32_t n = todo.back();
    todo.pop_back();
    for (std::int32_t in : g[static_cast<std::size_t>(n)]) {
      if (reach.insert(in).second) todo.push_back(in);
    }
  }
  EXPECT_EQ(order.size(), reach.size());
  for (std::int32_t n : order) {
    EXPECT_TRUE(reach.count(n)) << "node " << n << " is not reachable from the root";
    for (std::int32_t in : g[static_cast<std::size_t>(n)]) {
      EXPECT_LT(position[static_cast<std::size_t>(in)], position[static_cast<std::size_t>(n)])
          << "input " << in << " comes after its consumer " << n;
    }
  }
}

TEST(Ch03Topo, SingleNode) {
  const Graph g = {{}};
  EXPECT_EQ(topological_order(g, 0), (std::vector<std::int32_t>{0}));
}

TEST(Ch03Topo, MlpShapedGraphIsValidAndDeterministic) {
  // 0 x, 1 W1, 2 b1, 3 z1 = x·W1, 4 a1 = z1 + b1, 5 h = tanh a1, 6 W2, 7 z2 = h·W2, 8 loss
  const Graph g = {{}, {}, {}, {0, 1}, {3, 2}, {4}, {}, {5, 6}, {7}};
  const auto order = topological_order(g, 8);
  expect_valid(g, 8, order);
  // Inputs in listed order, post-order: the one order a deterministic DFS gives.
  EXPECT_EQ(order, (std::vector<std::int32_t>{0, 1, 3, 2, 4, 5, 6, 7, 8}));
  EXPECT_EQ(topological_order(g, 8), order);
}

TEST(Ch03Topo, OnlyReachableNodes) {
  // 0 → 2 ← 1, 3 is an unrelated branch, 4 reads 2 and 3
  const Graph g = {{}, {}, {0, 1}, {}, {2, 3}};
  const auto order = topological_order(g, 2);
  expect_valid(g, 2, order);
  EXPECT_EQ(order.size(), 3u);
  expect_valid(g, 4, topological_order(g, 4));
}

TEST(Ch03Topo, FanOutAndRepeatedInputAppearOnce) {
  // x (0) feeds 1 = x*x (x twice), 2 = exp x, 3 = 1 + 2: a diamond with a double edge.
  const Graph g = {{}, {0, 0}, {0}, {1, 2}};
  const auto order = topological_order(g, 3);
  expect_valid(g, 3, order);
  EXPECT_EQ(std::count(order.begin(), order.end(), 0), 1);
}

TEST(Ch03Topo, RandomDagsAreValid) {
  // Node i reads up to three earlier nodes, chosen by a fixed LCG.
  std::uint64_t s = 12345;
  auto next = [&] { return (s = s * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 1 + next() % 200;
    Graph g(n);
    for (std::size_t i = 1; i < n; ++i) {
      const std::size_t k = next() % 4;
      for (std::size_t j = 0; j < k; ++j) g[i].push_back(static_cast<std::int32_t>(next() % i));
    }
    const auto root = static_cast<std::int32_t>(n - 1);
    expect_valid(g, root, topological_order(g, root));
  }
}

TEST(Ch03Topo, CycleNamesANodeOnIt) {
  // 0 leaf, 1 = f(0, 3), 2 = g(1), 3 = h(2): 1 → 2 → 3 → 1 is a cycle.
  const Graph g = {{}, {0, 3}, {1}, {2}, {3}};
  const std::vector<std::string_view> names = {"x", "a", "b", "c", "loss"};
  try {
    topological_order(g, 4, names);
    FAIL() << "a cycle was not detected";
  } catch (const gnm::NotImplemented&) {
    throw;  // the stub: let the test fail loudly
  } catch (const gnm::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
    const bool names_one = msg.find("'a'") != std::string::npos ||
                           msg.find("'b'") != std::string::npos ||
                           msg.find("'c'") != std::string::npos;
    EXPECT_TRUE(names_one) << msg;
  }
}

TEST(Ch03Topo, SelfLoopIsACycle) {
  const Graph g = {{0}};
  const std::vector<std::string_view> names = {"self"};
  try {
    topological_order(g, 0, names);
    FAIL() << "a self loop was not detected";
  } catch (const gnm::NotImplemented&) {
    throw;
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'self'"), std::string::npos) << e.what();
  }
}

TEST(Ch03Topo, BadIndicesAreErrors) {
  const Graph g = {{}, {0, 7}};
  EXPECT_NO_THROW(topological_order(g, 0));  // node 1 (with the bad input) is not reached
  EXPECT_THROW(topological_order(g, 1), gnm::Error);
  EXPECT_THROW(topological_order(g, 2), gnm::Error);
  EXPECT_THROW(topological_order(g, -1), gnm::Error);
}

TEST(Ch03Topo, MillionNodeChainNeedsNoRecursion) {
  // Node i reads node i − 1: a recursive DFS would need 10^6 stack frames (and crash).
  const std::size_t n = 1'000'000;
  Graph g(n);
  for (std::size_t i = 1; i < n; ++i) g[i].push_back(static_cast<std::int32_t>(i - 1));
  const auto order = topological_order(g, static_cast<std::int32_t>(n - 1));
  ASSERT_EQ(order.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(order[i], static_cast<std::int32_t>(i));
}

}  // namespace
