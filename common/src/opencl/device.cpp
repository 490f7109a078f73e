// Platform and device enumeration (built only with OpenCL; stub.cpp stands in otherwise).
#include "gnm/opencl/device.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cl_api.hpp"
#include "gnm/core/check.hpp"

namespace gnm::opencl {

namespace {

// Strings from clGet*Info end in a NUL and, for some vendors, in spaces: both are trimmed.
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\0' || std::isspace(static_cast<unsigned char>(s.back())))) {
    s.pop_back();
  }
  return s;
}

std::string platform_string(cl_platform_id p, cl_platform_info what, const char* name) {
  std::size_t size = 0;
  GNM_CL_CHECK_AS(clGetPlatformInfo(p, what, 0, nullptr, &size),
                  std::string("clGetPlatformInfo(") + name + ")");
  std::string s(size, '\0');
  GNM_CL_CHECK_AS(clGetPlatformInfo(p, what, size, s.data(), nullptr),
                  std::string("clGetPlatformInfo(") + name + ")");
  return trimmed(std::move(s));
}

// `optional` queries (CL_DEVICE_IL_VERSION exists only from OpenCL 2.1 on) give "" on error.
std::string device_string(cl_device_id d, cl_device_info what, const char* name,
                          bool optional = false) {
  std::size_t size = 0;
  cl_int rc = clGetDeviceInfo(d, what, 0, nullptr, &size);
  if (optional && rc != CL_SUCCESS) return {};
  GNM_CL_CHECK_AS(rc, std::string("clGetDeviceInfo(") + name + ")");
  std::string s(size, '\0');
  rc = clGetDeviceInfo(d, what, size, s.data(), nullptr);
  if (optional && rc != CL_SUCCESS) return {};
  GNM_CL_CHECK_AS(rc, std::string("clGetDeviceInfo(") + name + ")");
  return trimmed(std::move(s));
}

template <class T>
T device_value(cl_device_id d, cl_device_info what, const char* name) {
  T value{};
  GNM_CL_CHECK_AS(clGetDeviceInfo(d, what, sizeof(T), &value, nullptr),
                  std::string("clGetDeviceInfo(") + name + ")");
  return value;
}

DeviceType to_type(cl_device_type t) {
  if (t == CL_DEVICE_TYPE_CPU) return DeviceType::cpu;
  if (t == CL_DEVICE_TYPE_GPU) return DeviceType::gpu;
  if (t == CL_DEVICE_TYPE_ACCELERATOR) return DeviceType::accelerator;
  return DeviceType::other;  // CL_DEVICE_TYPE_CUSTOM, or several bits (CPU | DEFAULT)
}

std::string list_devices(const std::vector<DeviceInfo>& all) {
  std::ostringstream s;
  for (const auto& d : all) {
    s << "\n  " << d.index << ": " << d.name << " (" << device_type_name(d.type) << ", "
      << d.platform_name << ")";
  }
  return s.str();
}

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::vector<DeviceInfo> devices() {
  cl_uint platform_count = 0;
  const cl_int rc = clGetPlatformIDs(0, nullptr, &platform_count);
  // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no vendor file is installed.
  if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && platform_count == 0)) return {};
  GNM_CL_CHECK_AS(rc, "clGetPlatformIDs");
  std::vector<cl_platform_id> platforms(platform_count);
  GNM_CL_CHECK(clGetPlatformIDs(platform_count, platforms.data(), nullptr));

  std::vector<DeviceInfo> out;
  for (cl_platform_id p : platforms) {
    cl_uint device_count = 0;
    const cl_int drc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &device_count);
    if (drc == CL_DEVICE_NOT_FOUND || device_count == 0) continue;
    GNM_CL_CHECK_AS(drc, "clGetDeviceIDs");
    std::vector<cl_device_id> ids(device_count);
    GNM_CL_CHECK(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, device_count, ids.data(), nullptr));
    const std::string platform_name = platform_string(p, CL_PLATFORM_NAME, "CL_PLATFORM_NAME");
    const std::string platform_version =
        platform_string(p, CL_PLATFORM_VERSION, "CL_PLATFORM_VERSION");
    for (cl_device_id d : ids) {
      DeviceInfo info;
      info.index = out.size();
      info.platform_name = platform_name;
      info.platform_version = platform_version;
      info.name = device_string(d, CL_DEVICE_NAME, "CL_DEVICE_NAME");
      info.vendor = device_string(d, CL_DEVICE_VENDOR, "CL_DEVICE_VENDOR");
      info.version = device_string(d, CL_DEVICE_VERSION, "CL_DEVICE_VERSION");
      info.driver_version = device_string(d, CL_DRIVER_VERSION, "CL_DRIVER_VERSION");
      info.opencl_c_version =
          device_string(d, CL_DEVICE_OPENCL_C_VERSION, "CL_DEVICE_OPENCL_C_VERSION");
      info.il_version = device_string(d, CL_DEVICE_IL_VERSION, "CL_DEVICE_IL_VERSION", true);
      info.extensions = device_string(d, CL_DEVICE_EXTENSIONS, "CL_DEVICE_EXTENSIONS");
      info.type = to_type(device_value<cl_device_type>(d, CL_DEVICE_TYPE, "CL_DEVICE_TYPE"));
      info.compute_units =
          device_value<cl_uint>(d, CL_DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS");
      info.max_clock_mhz =
          device_value<cl_uint>(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, "CL_DEVICE_MAX_CLOCK_FREQUENCY");
      info.global_mem_bytes =
          device_value<cl_ulong>(d, CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE");
      info.local_mem_bytes =
          device_value<cl_ulong>(d, CL_DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE");
      info.max_alloc_bytes =
          device_value<cl_ulong>(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
      info.max_work_group_size = device_value<std::size_t>(d, CL_DEVICE_MAX_WORK_GROUP_SIZE,
                                                           "CL_DEVICE_MAX_WORK_GROUP_SIZE");
      out.push_back(std::move(info));
    }
  }
  return out;
}

namespace detail {

cl_device_id device_handle(const DeviceInfo& device) {
  std::size_t seen = 0;
  cl_uint platform_count = 0;
  GNM_CL_CHECK(clGetPlatformIDs(0, nullptr, &platform_count));
  std::vector<cl_platform_id> platforms(platform_count);
  GNM_CL_CHECK(clGetPlatformIDs(platform_count, platforms.data(), nullptr));
  for (cl_platform_id p : platforms) {
    cl_uint count = 0;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS) continue;
    std::vector<cl_device_id> ids(count);
    GNM_CL_CHECK(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr));
    if (device.index < seen + count) {
      cl_device_id d = ids[device.index - seen];
      GNM_CHECK(device_string(d, CL_DEVICE_NAME, "CL_DEVICE_NAME") == device.name,
                "the OpenCL devices changed since devices() was called", device.index, device.name);
      return d;
    }
    seen += count;
  }
  GNM_CHECK(false, "no OpenCL device has this index any more", device.index, device.name);
  return nullptr;
}

int version_number(const std::string& version_text) {
  // "OpenCL <major>.<minor> <vendor text>"
  int major = 0, minor = 0;
  if (std::sscanf(version_text.c_str(), "OpenCL %d.%d", &major, &minor) != 2) return 0;
  return major * 10 + minor;
}

}  // namespace detail

DeviceInfo pick_device() {
  const char* env = std::getenv("GNM_OPENCL_DEVICE");
  return pick_device(env ? std::string_view(env) : std::string_view());
}

DeviceInfo pick_device(std::string_view selection) {
  const std::vector<DeviceInfo> all = devices();
  GNM_CHECK(!all.empty(),
            "no OpenCL device found: the ICD loader lists no platform (on Debian install "
            "pocl-opencl-icd for the CPU, or a GPU driver's OpenCL ICD)");
  auto first_of = [&](DeviceType type) -> const DeviceInfo* {
    for (const auto& d : all) {
      if (d.type == type) return &d;
    }
    return nullptr;
  };
  if (selection.empty()) {
    const DeviceInfo* gpu = first_of(DeviceType::gpu);
    return gpu ? *gpu : all.front();
  }
  const DeviceInfo* found = nullptr;
  if (selection == "gpu" || selection == "cpu") {
    found = first_of(selection == "gpu" ? DeviceType::gpu : DeviceType::cpu);
  } else if (is_number(selection)) {
    const auto index = std::strtoull(std::string(selection).c_str(), nullptr, 10);
    if (index < all.size()) found = &all[index];
  } else {
    for (const auto& d : all) {
      if (d.name.find(selection) != std::string::npos) {
        found = &d;
        break;
      }
    }
  }
  if (!found) {
    const std::string wanted(selection);
    const std::string available = list_devices(all);
    GNM_CHECK(found != nullptr,
              "no OpenCL device matches the selection (GNM_OPENCL_DEVICE: gpu, cpu, an index or "
              "part of a name); the devices are:" +
                  available,
              wanted);
  }
  return *found;
}

}  // namespace gnm::opencl
