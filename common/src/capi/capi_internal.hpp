// Internals of the C API (gnm/capi/gnm.h): the guard that turns every C++ exception into a
// gnm_status and a thread-local message, shared by every file of src/capi.
//
// Note [C API guard]: every exported function is
//
//     gnm_status gnm_xxx(...) noexcept { return gnm::capi::guarded([&] { ...C++ code... }); }
//
// The C++ body may throw anything; guarded() catches it, maps its type to a status (gnm::ShapeError
// → GNM_ERROR_SHAPE, std::bad_alloc → GNM_ERROR_OUT_OF_MEMORY, ...) and copies what() into a
// fixed thread-local buffer. Nothing in guarded()'s catch path allocates, so it cannot throw
// itself, even when the failure was running out of memory.
#pragma once

#include <exception>

#include "gnm/capi/gnm.h"

namespace gnm::capi {

/// Records `message` (truncated to the buffer) as this thread's last error.
void set_last_error(const char* message) noexcept;

/// Empties this thread's last error (after a successful call).
void clear_last_error() noexcept;

/// Maps the exception being handled (call only inside a catch block) to a status and records
/// its message.
gnm_status status_from_current_exception() noexcept;

//! [guarded]
/// Runs `body`; returns GNM_OK and clears the last error when it returns, or the status of what
/// it threw (see Note [C API guard]).
template <class Body>
gnm_status guarded(Body&& body) noexcept {
  try {
    body();
  } catch (...) {
    return status_from_current_exception();
  }
  clear_last_error();
  return GNM_OK;
}
//! [guarded]

}  // namespace gnm::capi
