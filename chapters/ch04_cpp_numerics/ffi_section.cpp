// Section 4.4: the engine's C API (gnm/capi/gnm.h) used from C++ as any foreign caller would:
// handles in RAII wrappers, statuses turned back into exceptions, errors forced on purpose, and
// the layout of the structs that cross the boundary. capi_demo.c does the same from C, and
// tests/ch04/test_capi_ctypes.py from Python.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gnm/capi/gnm.h"
#include "gnm/core/error.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"
#include "sections.hpp"

namespace ch04 {
namespace {

//! [capi_raii]
// A C handle inside a C++ owner: the 4.3 rule applied to the C API's own handles.
struct TensorDeleter {
  void operator()(gnm_tensor* t) const noexcept { gnm_tensor_free(t); }
};
using Tensor = std::unique_ptr<gnm_tensor, TensorDeleter>;

// A status back into an exception on the C++ side of the boundary.
void check(gnm_status status, const char* call) {
  if (status != GNM_OK) {
    throw gnm::Error(std::string(call) + " failed with " + gnm_status_name(status) + ": " +
                     gnm_last_error());
  }
}

Tensor make_tensor(std::int64_t rows, std::int64_t cols) {
  const gnm_shape shape = {{rows, cols}, 2, 0};
  gnm_tensor* t = nullptr;
  check(gnm_tensor_create(&shape, &t), "gnm_tensor_create");
  return Tensor(t);
}
//! [capi_raii]

struct ForcedError {
  const char* what;
  gnm_status expected;
  gnm_status got;
  std::string message;
};

struct Layout {
  const char* type;
  std::size_t size, align;
  std::string fields;  // "name@offset, ..."
};

}  // namespace

SectionResult run_ffi(const Options& opt) {
  std::printf("== 4.4 FFI: the engine's C API ==\n");
  std::printf("  %s, header API %d, library API %d\n", gnm_version_string(), GNM_API_VERSION,
              gnm_api_version());
  bool ok = gnm_api_version() == GNM_API_VERSION;

  const std::int64_t M = opt.quick ? 17 : 129, K = opt.quick ? 31 : 257, N = opt.quick ? 13 : 65;
  //! [capi_use]
  const Tensor a = make_tensor(M, K), b = make_tensor(K, N), c = make_tensor(M, N);
  check(gnm_tensor_fill_uniform(a.get(), 1, -1.0f, 1.0f), "gnm_tensor_fill_uniform");
  check(gnm_tensor_fill_uniform(b.get(), 2, -1.0f, 1.0f), "gnm_tensor_fill_uniform");
  check(gnm_tensor_fill(c.get(), NAN), "gnm_tensor_fill");  // poisoned: beta = 0 must ignore it
  check(gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0f, a.get(), b.get(), 0.0f, c.get()),
        "gnm_sgemm");
  gnm_tensor_info info{};
  check(gnm_tensor_describe(c.get(), &info), "gnm_tensor_describe");  // borrowed pointer
  //! [capi_use]
  std::vector<float> ha(static_cast<std::size_t>(M * K)), hb(static_cast<std::size_t>(K * N));
  check(gnm_tensor_read(a.get(), ha.data(), M * K), "gnm_tensor_read");
  check(gnm_tensor_read(b.get(), hb.data(), K * N), "gnm_tensor_read");
  std::vector<double> ref(static_cast<std::size_t>(M * N)), mass(ref.size());
  gnm::cpu::sgemm_reference(M, N, K, ha.data(), K, hb.data(), N, ref, mass);
  // K·eps·Σ|a·b| per element: see Note [Matmul tolerance] in arrays_section.cpp.
  bool product_ok = info.numel == M * N && info.strides[0] == N && info.strides[1] == 1;
  for (std::size_t i = 0; i < ref.size() && product_ok; ++i) {
    const double err = std::fabs(double(info.data[i]) - ref[i]);
    product_ok = err <= double(K) * gnm::kEpsF32 * mass[i];
  }
  ok = ok && product_ok;
  std::printf("  C (%lld×%lld) = A·B through handles: %s\n", static_cast<long long>(M),
              static_cast<long long>(N), product_ok ? "matches the double reference" : "WRONG");

  //! [capi_errors]
  std::vector<ForcedError> errors;
  const auto force = [&](const char* what, gnm_status expected, gnm_status got) {
    errors.push_back({what, expected, got, gnm_last_error()});
  };
  force("null handle", GNM_ERROR_INVALID_ARGUMENT, gnm_tensor_fill(nullptr, 1.0f));
  force("inner dimensions differ", GNM_ERROR_SHAPE,
        gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0f, a.get(), a.get(), 0.0f, c.get()));
  const gnm_shape negative = {{4, -3}, 2, 0};
  gnm_tensor* never = nullptr;
  force("negative size", GNM_ERROR_SHAPE, gnm_tensor_create(&negative, &never));
  const gnm_shape huge = {{1LL << 40, 1LL << 40}, 2, 0};
  force("size overflows", GNM_ERROR_SHAPE, gnm_tensor_create(&huge, &never));
  force("bad transpose flag", GNM_ERROR_INVALID_ARGUMENT,
        gnm_sgemm(7, GNM_NO_TRANSPOSE, 1.0f, a.get(), b.get(), 0.0f, c.get()));
  force("c is also a", GNM_ERROR_INVALID_ARGUMENT,
        gnm_sgemm(GNM_NO_TRANSPOSE, GNM_NO_TRANSPOSE, 1.0f, a.get(), a.get(), 0.0f, a.get()));
  gnm_tensor* t = make_tensor(2, 2).release();
  gnm_tensor_free(t);
  force("freed twice", GNM_ERROR_INVALID_ARGUMENT, gnm_tensor_free(t));
  force("a success clears the message", GNM_OK, gnm_tensor_fill(c.get(), 0.0f));
  //! [capi_errors]
  for (const auto& e : errors) {
    const bool good = e.got == e.expected && (e.got == GNM_OK) == e.message.empty() &&
                      never == nullptr;
    ok = ok && good;
    std::printf("  %-30s %-27s %s%s\n", e.what, gnm_status_name(e.got),
                e.message.substr(0, 90).c_str(), good ? "" : "  UNEXPECTED");
  }

  const Layout layouts[] = {
      {"gnm_shape", sizeof(gnm_shape), alignof(gnm_shape),
       "dims@" + std::to_string(offsetof(gnm_shape, dims)) + ", ndim@" +
           std::to_string(offsetof(gnm_shape, ndim)) + ", reserved@" +
           std::to_string(offsetof(gnm_shape, reserved))},
      {"gnm_tensor_info", sizeof(gnm_tensor_info), alignof(gnm_tensor_info),
       "data@" + std::to_string(offsetof(gnm_tensor_info, data)) + ", numel@" +
           std::to_string(offsetof(gnm_tensor_info, numel)) + ", shape@" +
           std::to_string(offsetof(gnm_tensor_info, shape)) + ", strides@" +
           std::to_string(offsetof(gnm_tensor_info, strides))},
  };
  for (const auto& l : layouts) {
    std::printf("  layout %-16s size %3zu align %zu  %s\n", l.type, l.size, l.align,
                l.fields.c_str());
  }
  std::printf("  ffi: %s\n\n", ok ? "ok" : "FAILED");

  std::ostringstream j;
  j << "{\"version\": " << gnm::json_quote(gnm_version_string()) << ", \"errors\": [";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const auto& e = errors[i];
    j << (i ? ", " : "") << "{\"forced\": " << gnm::json_quote(e.what)
      << ", \"status\": " << gnm::json_quote(gnm_status_name(e.got))
      << ", \"message\": " << gnm::json_quote(e.message.substr(0, 120)) << "}";
  }
  j << "], \"layout\": [";
  for (std::size_t i = 0; i < std::size(layouts); ++i) {
    const auto& l = layouts[i];
    j << (i ? ", " : "") << "{\"struct\": \"" << l.type << "\", \"sizeof\": " << l.size
      << ", \"alignof\": " << l.align << ", \"offsets\": " << gnm::json_quote(l.fields) << "}";
  }
  j << "], \"verified\": " << (ok ? "true" : "false") << "}";
  return {ok, j.str()};
}

}  // namespace ch04
