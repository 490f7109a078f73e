// Exercise 3.3: topological order by an iterative depth-first search (see
// exercises/ch03/topo_sort.hpp for the task statement).
#include "topo_sort.hpp"

#include <cstddef>
#include <utility>

#include "gnm/core/check.hpp"

namespace gnm::ch03 {

std::string node_name(std::span<const std::string_view> names, std::int32_t i) {
  if (i >= 0 && static_cast<std::size_t>(i) < names.size()) return std::string(names[static_cast<std::size_t>(i)]);
  return "#" + std::to_string(i);
}

//! [topological_order]
std::vector<std::int32_t> topological_order(std::span<const std::vector<std::int32_t>> inputs,
                                            std::int32_t root,
                                            std::span<const std::string_view> names) {
  const auto n = static_cast<std::int64_t>(inputs.size());
  GNM_CHECK(root >= 0 && root < n, "topological_order: the root is not a node", root, n);
  // BEGIN SOLUTION("ex 3.3", "explicit stack of (node, next input index); colours new/on-path/done; an on-path input is a cycle; emit a node when all its inputs are done")
  enum Colour : unsigned char { kNew, kOnPath, kDone };
  std::vector<Colour> colour(static_cast<std::size_t>(n), kNew);
  std::vector<std::pair<std::int32_t, std::size_t>> stack;  // (node, index of its next input)
  std::vector<std::int32_t> order;
  stack.emplace_back(root, 0);
  colour[static_cast<std::size_t>(root)] = kOnPath;
  while (!stack.empty()) {
    const std::int32_t node = stack.back().first;
    const auto& ins = inputs[static_cast<std::size_t>(node)];
    const std::size_t next = stack.back().second;
    if (next == ins.size()) {  // every input is done: the node may follow them
      colour[static_cast<std::size_t>(node)] = kDone;
      order.push_back(node);
      stack.pop_back();
      continue;
    }
    stack.back().second = next + 1;
    const std::int32_t in = ins[next];
    GNM_CHECK(in >= 0 && in < n, "topological_order: an input is not a node",
              node_name(names, node), in, n);
    const Colour c = colour[static_cast<std::size_t>(in)];
    if (c == kOnPath) {
      // `in` is an ancestor on the current path and also an input of `node`: a cycle.
      throw Error("topological_order: the graph has a cycle through node '" +
                  node_name(names, in) + "' (an input of '" + node_name(names, node) + "')");
    }
    if (c == kNew) {
      colour[static_cast<std::size_t>(in)] = kOnPath;
      stack.emplace_back(in, 0);
    }
    // kDone: already emitted (a shared input, fan-out); nothing to do.
  }
  return order;
  // END SOLUTION
}
//! [topological_order]

}  // namespace gnm::ch03
