// The C API's error channel: status codes, names, the thread-local last-error message, versions.
#include <cstdio>
#include <cstring>
#include <new>
#include <type_traits>

#include "capi_internal.hpp"
#include "gnm/capi/gnm.h"
#include "gnm/core/error.hpp"

// capi.cmake passes the project() version, so gnm.h cannot drift from CMakeLists.txt.
static_assert(GNM_VERSION_MAJOR == GNM_PROJECT_VERSION_MAJOR &&
                  GNM_VERSION_MINOR == GNM_PROJECT_VERSION_MINOR &&
                  GNM_VERSION_PATCH == GNM_PROJECT_VERSION_PATCH,
              "gnm.h's GNM_VERSION_* differ from project(VERSION) in CMakeLists.txt");

// The structs shared with C must be plain data: standard layout (C's rules for field order and
// padding apply) and trivially copyable (memcpy-able, no constructors a C caller would skip).
// Their sizes and offsets are checked in gnm.h itself.
static_assert(std::is_standard_layout_v<gnm_shape> && std::is_trivially_copyable_v<gnm_shape>);
static_assert(std::is_standard_layout_v<gnm_tensor_info> &&
              std::is_trivially_copyable_v<gnm_tensor_info>);

namespace gnm::capi {
namespace {

// 1 KiB holds any message the engine writes (GNM_CHECK with eight values is ~300 characters);
// longer ones are truncated, never reallocated: the error path must not allocate.
constexpr std::size_t kMessageCapacity = 1024;
thread_local char last_error[kMessageCapacity] = "";

}  // namespace

void set_last_error(const char* message) noexcept {
  std::snprintf(last_error, kMessageCapacity, "%s", message ? message : "");
}

void clear_last_error() noexcept { last_error[0] = '\0'; }

gnm_status status_from_current_exception() noexcept {
  // Most derived types first: ShapeError and the others derive from gnm::Error.
  try {
    throw;
  } catch (const ShapeError& e) {
    set_last_error(e.what());
    return GNM_ERROR_SHAPE;
  } catch (const NotImplemented& e) {
    set_last_error(e.what());
    return GNM_ERROR_NOT_IMPLEMENTED;
  } catch (const IoError& e) {
    set_last_error(e.what());
    return GNM_ERROR_IO;
  } catch (const CudaError& e) {
    set_last_error(e.what());
    return GNM_ERROR_CUDA;
  } catch (const Error& e) {
    set_last_error(e.what());
    return GNM_ERROR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    set_last_error("out of memory: the allocation failed (std::bad_alloc)");
    return GNM_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    std::snprintf(last_error, kMessageCapacity, "internal error: %s", e.what());
    return GNM_ERROR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: an exception not derived from std::exception");
    return GNM_ERROR_INTERNAL;
  }
}

}  // namespace gnm::capi

extern "C" {

int32_t gnm_api_version(void) noexcept { return GNM_API_VERSION; }

const char* gnm_version_string(void) noexcept {
#define GNM_STR_(x) #x
#define GNM_STR(x) GNM_STR_(x)
  return "gnm " GNM_STR(GNM_VERSION_MAJOR) "." GNM_STR(GNM_VERSION_MINOR) "." GNM_STR(
      GNM_VERSION_PATCH) " (C API " GNM_STR(GNM_API_VERSION) ")";
#undef GNM_STR
#undef GNM_STR_
}

const char* gnm_status_name(gnm_status status) noexcept {
  switch (status) {
    case GNM_OK: return "GNM_OK";
    case GNM_ERROR_INVALID_ARGUMENT: return "GNM_ERROR_INVALID_ARGUMENT";
    case GNM_ERROR_SHAPE: return "GNM_ERROR_SHAPE";
    case GNM_ERROR_OUT_OF_MEMORY: return "GNM_ERROR_OUT_OF_MEMORY";
    case GNM_ERROR_NOT_IMPLEMENTED: return "GNM_ERROR_NOT_IMPLEMENTED";
    case GNM_ERROR_IO: return "GNM_ERROR_IO";
    case GNM_ERROR_CUDA: return "GNM_ERROR_CUDA";
    case GNM_ERROR_INTERNAL: return "GNM_ERROR_INTERNAL";
    default: return "unknown status";
  }
}

const char* gnm_last_error(void) noexcept { return gnm::capi::last_error; }

}  // extern "C"
