// Host tensor memory (internal): where Storage on Device::cpu() gets its bytes. The policy —
// which requests the caching allocator serves, its bound, the AddressSanitizer bypass — is
// explained in host_memory.cpp; the public statistics are in gnm/tensor/storage.hpp.
#pragma once

#include <cstddef>

namespace gnm::detail {

/// At least `nbytes` (> 0) of 64-B aligned host memory. `from_cache` tells host_deallocate where
/// the block came from: the caching allocator, or std::aligned_alloc.
void* host_allocate(std::size_t nbytes, bool& from_cache);
/// Returns a block from host_allocate() (with the `from_cache` it set).
void host_deallocate(void* ptr, bool from_cache) noexcept;

}  // namespace gnm::detail
