/// \file
/// Portability macros shared by host-only and CUDA translation units.
#pragma once

#if defined(__CUDACC__)
/// Marks a function callable from both host and device code (empty in host-only builds).
#define GNM_HOST_DEVICE __host__ __device__
#else
/// Marks a function callable from both host and device code (empty in host-only builds).
#define GNM_HOST_DEVICE
#endif
