// Section 4.5: the run-time failure path of shape_math.hpp.
#include "shape_math.hpp"

#include <string>

#include "gnm/core/error.hpp"

namespace ch04::shape {

void fail(const char* what, std::int64_t a, std::int64_t b) {
  throw gnm::ShapeError(std::string(what) + ": " + std::to_string(a) + " and " +
                        std::to_string(b));
}

}  // namespace ch04::shape
