// Exercise 4.3: exceptions → status codes at a C boundary (see exercises/ch04/c_boundary.hpp).
#include "c_boundary.hpp"

#include <cmath>
#include <cstdio>
#include <exception>
#include <new>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"

namespace gnm::ch04 {
namespace {
thread_local char g_last_error[kLastErrorCapacity] = "";
}  // namespace

void set_last_error(const char* message) noexcept {
  std::snprintf(g_last_error, kLastErrorCapacity, "%s", message != nullptr ? message : "");
}

//! [translate_exception]
gnm_status translate_exception() {
  // BEGIN SOLUTION("ex 4.3", "try { throw; } then one catch per row of the table, most derived first; set_last_error(e.what()) and return the status")
  try {
    throw;  // rethrow the exception being handled, to catch it by type
  } catch (const gnm::ShapeError& e) {
    set_last_error(e.what());
    return GNM_ERROR_SHAPE;
  } catch (const gnm::NotImplemented& e) {
    set_last_error(e.what());
    return GNM_ERROR_NOT_IMPLEMENTED;
  } catch (const gnm::IoError& e) {
    set_last_error(e.what());
    return GNM_ERROR_IO;
  } catch (const gnm::Error& e) {
    set_last_error(e.what());
    return GNM_ERROR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory");
    return GNM_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    // snprintf into the fixed buffer: no allocation on the error path.
    std::snprintf(g_last_error, kLastErrorCapacity, "internal error: %s", e.what());
    return GNM_ERROR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return GNM_ERROR_INTERNAL;
  }
  // END SOLUTION
}
//! [translate_exception]

}  // namespace gnm::ch04

//! [row_norms]
extern "C" gnm_status ch04_row_norms(const float* x, int64_t rows, int64_t cols, float* out) {
  try {
    GNM_CHECK_SHAPE(rows >= 0 && cols >= 0, "ch04_row_norms: negative matrix size", rows, cols);
    GNM_CHECK((x != nullptr || rows * cols == 0) && (out != nullptr || rows == 0),
              "ch04_row_norms: null pointer for a non-empty matrix", rows, cols);
    for (int64_t i = 0; i < rows; ++i) {
      double sum = 0.0;  // double: no overflow for any finite float row of practical length
      for (int64_t j = 0; j < cols; ++j) {
        const double v = static_cast<double>(x[i * cols + j]);
        GNM_CHECK(std::isfinite(v), "ch04_row_norms: non-finite element", i, j, v);
        sum += v * v;
      }
      out[i] = static_cast<float>(std::sqrt(sum));
    }
  } catch (...) {
    return gnm::ch04::translate_exception();  // nothing escapes into the C caller
  }
  gnm::ch04::set_last_error("");
  return GNM_OK;
}
//! [row_norms]

extern "C" const char* ch04_last_error(void) { return gnm::ch04::g_last_error; }
