// Exercise 4.3 — turning C++ exceptions into C error codes at an FFI boundary (section 4.4).
//
// A C caller cannot catch a C++ exception; one that unwinds through C frames is undefined
// behaviour. So every function with C linkage catches everything and returns a status instead,
// with a message the caller can fetch afterwards. The engine's C API (gnm/capi/gnm.h) works this
// way; here you write its central piece for a small entry point of this chapter.
//
// Write, in exercises/ch04/c_boundary.cpp:
//   4.3  translate_exception()   the exception being handled → gnm_status + last-error message
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch04
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnm/capi/gnm.h"

namespace gnm::ch04 {

/// Capacity of the thread-local last-error buffer, terminating zero included: longer messages are
/// truncated to kLastErrorCapacity − 1 characters.
inline constexpr std::size_t kLastErrorCapacity = 256;

/// Copies `message` (truncated to kLastErrorCapacity − 1 characters) into this thread's
/// last-error buffer (given). Never allocates, never throws.
void set_last_error(const char* message) noexcept;

/// Ex 4.3. Call only inside a `catch (...)` block. Rethrows the exception being handled (`throw;`),
/// catches it by type, records its message with set_last_error() and returns its status:
///
/// | caught                          | status                       | message recorded            |
/// |---------------------------------|------------------------------|-----------------------------|
/// | gnm::ShapeError                 | GNM_ERROR_SHAPE              | what()                      |
/// | gnm::NotImplemented             | GNM_ERROR_NOT_IMPLEMENTED    | what()                      |
/// | gnm::IoError                    | GNM_ERROR_IO                 | what()                      |
/// | any other gnm::Error            | GNM_ERROR_INVALID_ARGUMENT   | what()                      |
/// | std::bad_alloc                  | GNM_ERROR_OUT_OF_MEMORY      | "out of memory"             |
/// | any other std::exception        | GNM_ERROR_INTERNAL           | "internal error: " + what() |
/// | anything else (`throw 42;`)     | GNM_ERROR_INTERNAL           | "internal error: unknown exception" |
///
/// Catch the most derived types first: every gnm error is also a gnm::Error and a
/// std::exception. Do not build the message in a std::string: after std::bad_alloc, allocating
/// may throw again, and nothing may escape from here.
///
/// Not `noexcept` only because the exercise stub throws gnm::NotImplemented (see Note [Moves are
/// noexcept] in move_buffer.hpp); the finished function never throws.
gnm_status translate_exception();

}  // namespace gnm::ch04

extern "C" {

/// A C entry point (given): out[i] = sqrt(Σ_j x[i·cols + j]²), the Euclidean norm of each row of
/// the row-major `rows` × `cols` matrix `x`. Never throws: returns GNM_OK, or
/// GNM_ERROR_INVALID_ARGUMENT for a null pointer with a non-empty matrix, GNM_ERROR_SHAPE for a
/// negative size, GNM_ERROR_INVALID_ARGUMENT for a non-finite element, each with a message.
gnm_status ch04_row_norms(const float* x, int64_t rows, int64_t cols, float* out);

/// The message of the last ch04_ call on this thread: "" after a success. Never NULL.
const char* ch04_last_error(void);

}  // extern "C"
