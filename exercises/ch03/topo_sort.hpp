// Exercise 3.3 — topological order of a computation graph (section 3.2).
//
// Write, in exercises/ch03/topo_sort.cpp, topological_order(). Then:
//   cmake --build build && ctest --test-dir build -L exercise -R ch03/exercise/Ch03Topo
//
// The backward pass may process a node only after every node that consumes it has added its
// contribution to the node's gradient. A topological order (every node after its inputs),
// walked backwards, guarantees that. The tape of section 3.2 and the static graph of section 3.5
// both call this function.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gnm::ch03 {

/// The name of node i for messages: names[i], or "#i" when names has no entry i (given).
std::string node_name(std::span<const std::string_view> names, std::int32_t i);

/// Ex 3.3. The nodes that `root` depends on (root included), each after all of its inputs.
///
/// The graph: node i reads the nodes inputs[i] (its operands; a node may appear twice, as in
/// x * x; leaves have none). `names[i]` names node i in error messages; `names` may be empty,
/// and then node i is called "#i".
///
/// Requirements:
/// - Only nodes reachable from `root` through inputs appear, each exactly once, root last.
/// - Iterative: a chain of 10^6 nodes must not overflow the call stack. Keep an explicit stack
///   of (node, next input to visit) and three colours per node: unvisited, on the current path,
///   done. Emit a node when its last input is done (a post-order).
/// - Deterministic: visit inputs in the order they are listed.
/// - A cycle (an input that is on the current path) is a gnm::Error whose message contains
///   "cycle" and the name of that input node.
/// - `root` or an input outside [0, inputs.size()) is a gnm::Error naming the index.
std::vector<std::int32_t> topological_order(std::span<const std::vector<std::int32_t>> inputs,
                                            std::int32_t root,
                                            std::span<const std::string_view> names = {});

}  // namespace gnm::ch03
