// The driver API through dlopen/dlsym (see gnm/cuda/driver.hpp for why libcuda is never linked).
#include <dlfcn.h>

#include <string>

#include "gnm/core/check.hpp"
#include "gnm/cuda/driver.hpp"

namespace gnm::cuda::driver {
namespace {

// The code thrown when the driver is missing: the runtime's cudaErrorInsufficientDriver, so a
// caller can treat both APIs' "no driver" alike.
constexpr int kNoDriverCode = 35;

// The entry points, typed from cuda.h's own declarations so a mismatch cannot compile.
struct Api {
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDriverGetVersion) driver_get_version = nullptr;
  decltype(&::cuDeviceGet) device_get = nullptr;
  decltype(&::cuDeviceGetAttribute) device_get_attribute = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) primary_ctx_retain = nullptr;
  decltype(&::cuCtxGetCurrent) ctx_get_current = nullptr;
  decltype(&::cuCtxSetCurrent) ctx_set_current = nullptr;
  decltype(&::cuCtxSynchronize) ctx_synchronize = nullptr;
  decltype(&::cuModuleLoadData) module_load_data = nullptr;
  decltype(&::cuModuleGetFunction) module_get_function = nullptr;
  decltype(&::cuModuleUnload) module_unload = nullptr;
  decltype(&::cuLaunchKernel) launch_kernel = nullptr;
  decltype(&::cuGetErrorName) get_error_name = nullptr;
  decltype(&::cuGetErrorString) get_error_string = nullptr;
  std::string error;  // empty when everything resolved and cuInit succeeded
};

template <class Fn>
bool resolve(void* lib, const char* name, Fn& fn, std::string& error) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!fn && error.empty()) {
    error = std::string("libcuda.so.1 has no symbol ") + name + " (driver too old?)";
  }
  return fn != nullptr;
}

Api load_api() {
  Api api;
  // RTLD_LOCAL keeps the symbols out of the global namespace; the static runtime dlopens the same
  // file, and the loader maps it only once.
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    api.error = "no CUDA driver (libcuda.so.1 not found): install the NVIDIA driver or run on a "
                "machine with a GPU";
    return api;
  }
  // Never dlclose()d: the runtime may hold the same handle, and function pointers must stay valid.
  std::string& e = api.error;
  resolve(lib, "cuInit", api.init, e);
  resolve(lib, "cuDriverGetVersion", api.driver_get_version, e);
  resolve(lib, "cuDeviceGet", api.device_get, e);
  resolve(lib, "cuDeviceGetAttribute", api.device_get_attribute, e);
  resolve(lib, "cuDevicePrimaryCtxRetain", api.primary_ctx_retain, e);
  resolve(lib, "cuCtxGetCurrent", api.ctx_get_current, e);
  resolve(lib, "cuCtxSetCurrent", api.ctx_set_current, e);
  resolve(lib, "cuCtxSynchronize", api.ctx_synchronize, e);
  resolve(lib, "cuModuleLoadData", api.module_load_data, e);
  resolve(lib, "cuModuleGetFunction", api.module_get_function, e);
  resolve(lib, "cuModuleUnload", api.module_unload, e);
  resolve(lib, "cuLaunchKernel", api.launch_kernel, e);
  resolve(lib, "cuGetErrorName", api.get_error_name, e);
  resolve(lib, "cuGetErrorString", api.get_error_string, e);
  if (!e.empty()) return api;
  // A stub libcuda (toolkit's lib64/stubs on the library path) loads but fails here with
  // CUDA_ERROR_STUB_LIBRARY; a driver with no device fails with CUDA_ERROR_NO_DEVICE.
  if (const CUresult r = api.init(0); r != CUDA_SUCCESS) {
    const char* name = nullptr;
    api.get_error_name(r, &name);
    e = "cuInit failed with " + std::to_string(static_cast<int>(r)) + " (" +
        (name ? name : "unknown") + "): the driver is installed but unusable";
  }
  return api;
}

// Loaded once, thread-safely, on first use; a failed load is remembered, not retried.
const Api& api() {
  static const Api instance = load_api();
  return instance;
}

const Api& usable_api(const char* call, const char* file, int line) {
  const Api& a = api();
  if (!a.error.empty()) throw CudaError(kNoDriverCode, a.error + " [in " + call + "]", file, line);
  return a;
}

}  // namespace

bool available() noexcept {
  try {
    return api().error.empty();
  } catch (...) {  // only std::bad_alloc while building the message
    return false;
  }
}

std::string unavailable_reason() { return api().error; }

void check(CUresult status, const char* call, const char* file, int line) {
  if (status == CUDA_SUCCESS) return;
  const Api& a = api();
  const char* name = nullptr;
  const char* text = nullptr;
  if (a.get_error_name) a.get_error_name(status, &name);
  if (a.get_error_string) a.get_error_string(status, &text);
  throw CudaError(static_cast<int>(status),
                  "CUDA driver error " + std::to_string(static_cast<int>(status)) + " (" +
                      (name ? name : "unknown") + ": " + (text ? text : "no description") +
                      ") in " + call,
                  file, line);
}

// Resolves the API (throwing when there is no driver) and checks the call's result.
#define GNM_DRIVER_CALL(fn, ...) \
  check(usable_api(#fn, __FILE__, __LINE__).fn(__VA_ARGS__), #fn, __FILE__, __LINE__)

int version() {
  int v = 0;
  GNM_DRIVER_CALL(driver_get_version, &v);
  return v;
}

CUcontext ensure_context(int device) {
  CUcontext ctx = nullptr;
  GNM_DRIVER_CALL(ctx_get_current, &ctx);
  if (ctx) return ctx;
  CUdevice dev = 0;
  GNM_DRIVER_CALL(device_get, &dev, device);
  // The retain is never released: the primary context lives for the process, as the runtime's does.
  GNM_DRIVER_CALL(primary_ctx_retain, &ctx, dev);
  GNM_DRIVER_CALL(ctx_set_current, ctx);
  return ctx;
}

std::string device_arch(int device, std::string_view prefix) {
  CUdevice dev = 0;
  GNM_DRIVER_CALL(device_get, &dev, device);
  int major = 0;
  int minor = 0;
  GNM_DRIVER_CALL(device_get_attribute, &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  GNM_DRIVER_CALL(device_get_attribute, &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  return std::string(prefix) + "_" + std::to_string(major) + std::to_string(minor);
}

Module Module::load(std::string_view image) {
  GNM_CHECK_AS(Error, !image.empty(), "cannot load an empty module image");
  ensure_context(0);
  // PTX must be NUL-terminated; a cubin is self-describing (ELF), so the copy is harmless there.
  const std::string copy(image);
  CUmodule m = nullptr;
  GNM_DRIVER_CALL(module_load_data, &m, copy.c_str());
  return Module(m);
}

Module::~Module() {
  if (module_) (void)api().module_unload(module_);  // errors ignored: destructors do not throw
}

Module::Module(Module&& other) noexcept : module_(other.module_) { other.module_ = nullptr; }

Module& Module::operator=(Module&& other) noexcept {
  if (this != &other) {
    if (module_) (void)api().module_unload(module_);
    module_ = other.module_;
    other.module_ = nullptr;
  }
  return *this;
}

CUfunction Module::function(const char* name) const {
  GNM_CHECK_AS(Error, module_ != nullptr, "function() on an empty module", name);
  CUfunction f = nullptr;
  const CUresult r = usable_api("cuModuleGetFunction", __FILE__, __LINE__)
                         .module_get_function(&f, module_, name);
  if (r == CUDA_ERROR_NOT_FOUND) {
    throw CudaError(static_cast<int>(r),
                    std::string("the module has no kernel named '") + name +
                        "' (declare it extern \"C\" to keep the name unmangled)",
                    __FILE__, __LINE__);
  }
  check(r, "cuModuleGetFunction", __FILE__, __LINE__);
  return f;
}

void launch_raw(CUfunction f, const LaunchConfig& c, void** args) {
  GNM_CHECK_AS(Error, f != nullptr, "launch of a null CUfunction");
  GNM_DRIVER_CALL(launch_kernel, f, c.grid.x, c.grid.y, c.grid.z, c.block.x, c.block.y, c.block.z,
                  c.shared_bytes, c.stream, args, nullptr);
}

void synchronize() { GNM_DRIVER_CALL(ctx_synchronize); }

#undef GNM_DRIVER_CALL

}  // namespace gnm::cuda::driver
