// 8.2 Pinned memory, unified memory, zero-copy.
//
//   - unified (managed) memory written by the CPU, then touched by a kernel: without a prefetch
//     every first touch of a page faults and the driver migrates it on demand; with
//     cudaMemPrefetchAsync the pages move in bulk first, at close to the link's bandwidth;
//   - zero-copy: a kernel reads mapped pinned host memory directly over the link. Reading the
//     input once, that saves the staging copy; reading it twice pays the link twice.
//
// Every variant runs x ← fmaf(x, a, b) and is checked bit for bit against the CPU.
//
// Note [Prefetch in CUDA 13]: cudaMemPrefetchAsync(ptr, bytes, device, stream) became
// cudaMemPrefetchAsync(ptr, bytes, cudaMemLocation{type, id}, flags, stream) in CUDA 13; the
// location names a device (cudaMemLocationTypeDevice, id = ordinal) or the host, and flags must
// be 0. Prefetching to a device needs the device attribute concurrentManagedAccess (Linux: yes;
// Windows/WSL: no, and then every access must wait for the device to be idle).
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gnm/core/host_info.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_timing.hpp"
#include "kernels.hpp"
#include "sections.hpp"

namespace chapter08 {

namespace {

using namespace gnm::cells;

constexpr float kA = 0.75f;
constexpr float kB = 0.5f;

// Managed memory: one pointer valid on the host and on every device; pages migrate on use.
class ManagedArray {
 public:
  explicit ManagedArray(std::size_t n) {
    GNM_CUDA_CHECK(cudaMallocManaged(&p_, n * sizeof(float), cudaMemAttachGlobal));
  }
  ManagedArray(const ManagedArray&) = delete;
  ManagedArray& operator=(const ManagedArray&) = delete;
  ~ManagedArray() { (void)cudaFree(p_); }
  float* data() const { return p_; }

 private:
  float* p_ = nullptr;
};

// Pinned host memory mapped into the device's address space (zero-copy).
class MappedArray {
 public:
  explicit MappedArray(std::size_t n) {
    GNM_CUDA_CHECK(cudaHostAlloc(&p_, n * sizeof(float), cudaHostAllocMapped));
    const cudaError_t mapped = cudaHostGetDevicePointer(reinterpret_cast<void**>(&d_), p_, 0);
    if (mapped != cudaSuccess) {  // the destructor does not run for a throwing constructor
      (void)cudaFreeHost(p_);
      GNM_CUDA_CHECK(mapped);
    }
  }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  ~MappedArray() { (void)cudaFreeHost(p_); }
  float* host() const { return p_; }
  const float* device() const { return d_; }

 private:
  float* p_ = nullptr;
  float* d_ = nullptr;
};

bool bit_equal(const float* got, const std::vector<float>& want) {
  return std::memcmp(got, want.data(), want.size() * sizeof(float)) == 0;
}

//! [prefetch]
void prefetch_to_device(const void* p, std::size_t bytes, int device, cudaStream_t s) {
  cudaMemLocation where{};
  where.type = cudaMemLocationTypeDevice;
  where.id = device;
  GNM_CUDA_CHECK(cudaMemPrefetchAsync(p, bytes, where, /*flags=*/0, s));
}
//! [prefetch]

}  // namespace

Section run_unified(const Config& cfg) {
  if (auto skip = skip_without_gpu("8.2")) return *skip;
  Section section;
  std::printf("== 8.2 unified memory with and without prefetch; zero-copy ==\n");
  int device = 0;
  GNM_CUDA_CHECK(cudaGetDevice(&device));
  int concurrent = 0, can_map = 0;
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&concurrent, cudaDevAttrConcurrentManagedAccess, device));
  GNM_CUDA_CHECK(cudaDeviceGetAttribute(&can_map, cudaDevAttrCanMapHostMemory, device));

  const std::size_t n = cfg.quick ? (std::size_t{4} << 20) : (std::size_t{64} << 20);
  const std::size_t bytes = n * sizeof(float);
  const double moved = 2.0 * static_cast<double>(bytes);  // read + write, in place
  const int repeat = cfg.repeats(5, 3);
  std::vector<float> x0(n), ref(n);
  gnm::fill_uniform(x0, cfg.seed + 2, -4.0f, 4.0f);
  for (std::size_t i = 0; i < n; ++i) ref[i] = std::fmaf(x0[i], kA, kB);
  gnm::cuda::Stream stream;
  const cudaStream_t s = stream.get();
  const std::string size = gnm::format_bytes(static_cast<double>(bytes));

  Table um("8.2 unified memory, x = fmaf(x, a, b) in place on " + size,
           {"variant", "ms", "GB/s", "FLOP/B", "bit-exact"});
  std::vector<float> back(n);

  // Baseline: cudaMalloc'd memory, the data already on the device.
  gnm::cuda::DeviceBuffer<float> d_x(n);
  const double t_device = median_event_ms_with_setup(
      s, true, repeat, [&] { d_x.copy_from_host(x0, s); },
      [&] { affine(d_x.data(), d_x.data(), static_cast<std::int64_t>(n), kA, kB, s); });
  d_x.copy_to_host(back, s);
  bool ok = bit_equal(back.data(), ref);
  // FLOP/B (one FMA per 8 bytes) puts the baseline kernel on 6.6's roofline.
  um.add({str("cudaMalloc memory (baseline)"), num(t_device), num(gbps(moved, t_device)),
          num(0.25), flag(ok)});
  section.verified = section.verified && ok;

  //! [managed]
  ManagedArray m(n);
  // The host writes the input: its pages now live in host memory. cudaDeviceSynchronize first:
  // without concurrentManagedAccess the host may not touch managed memory while a kernel runs.
  auto host_init = [&] {
    GNM_CUDA_CHECK(cudaDeviceSynchronize());
    std::memcpy(m.data(), x0.data(), bytes);
  };
  auto kernel = [&] { affine(m.data(), m.data(), static_cast<std::int64_t>(n), kA, kB, s); };
  const double t_faults = median_event_ms_with_setup(s, true, repeat, host_init, kernel);
  //! [managed]
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  ok = bit_equal(m.data(), ref);
  um.add({str("managed, first touch by the kernel (page faults)"), num(t_faults),
          num(gbps(moved, t_faults)), str("-"), flag(ok)});
  section.verified = section.verified && ok;

  double t_prefetch_kernel = 0, t_resident = 0;
  if (concurrent) {
    t_prefetch_kernel = median_event_ms_with_setup(s, true, repeat, host_init, [&] {
      prefetch_to_device(m.data(), bytes, device, s);
      kernel();
    });
    GNM_CUDA_CHECK(cudaDeviceSynchronize());
    ok = bit_equal(m.data(), ref);
    um.add({str("managed, cudaMemPrefetchAsync + kernel"), num(t_prefetch_kernel),
            num(gbps(moved, t_prefetch_kernel)), str("-"), flag(ok)});
    section.verified = section.verified && ok;
    t_resident = median_event_ms_with_setup(
        s, true, repeat,
        [&] {
          host_init();
          prefetch_to_device(m.data(), bytes, device, s);
          GNM_CUDA_CHECK(cudaStreamSynchronize(s));
        },
        kernel);
    GNM_CUDA_CHECK(cudaDeviceSynchronize());
    ok = bit_equal(m.data(), ref);
    um.add({str("managed, kernel alone (pages already on the device)"), num(t_resident),
            num(gbps(moved, t_resident)), str("-"), flag(ok)});
    section.verified = section.verified && ok;
  } else {
    um.add({str("prefetch: not supported (concurrentManagedAccess = 0)"), str("-"), str("-"),
            str("-"), str("-")});
  }
  section.add(um);

  if (concurrent) {
    // What moving the pages cost, per MiB: on demand (faults) against in bulk (prefetch).
    const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    const double on_demand = (t_faults - t_resident) * 1e3 / mib;
    const double bulk = (t_prefetch_kernel - t_resident) * 1e3 / mib;
    Table cost("8.2 migration cost", {"how pages move to the device", "µs per MiB", "GB/s"});
    cost.add({str("on demand (GPU page faults)"), num(on_demand), num(1.048576 / on_demand * 1e3)});
    cost.add({str("cudaMemPrefetchAsync"), num(bulk), num(1.048576 / bulk * 1e3)});
    section.add(cost);
    section.figures.emplace_back("um_fault_over_prefetch", on_demand / bulk);
  }

  // Zero-copy: the input stays in mapped pinned host memory; the output goes to device memory.
  if (can_map) {
    MappedArray h(n);
    std::memcpy(h.host(), x0.data(), bytes);
    gnm::cuda::DeviceBuffer<float> d_in(n), d_out(n);
    const auto count = static_cast<std::int64_t>(n);
    Table zc("8.2 zero-copy: a kernel reads " + size + " of host memory",
             {"variant", "ms", "input GB/s over the link", "bit-exact"});
    auto add_row = [&](const char* name, int passes, auto&& body) {
      const double t = median_event_ms(s, 1, repeat, body);
      d_out.copy_to_host(back, s);
      const bool good = bit_equal(back.data(), ref);
      zc.add({str(name), num(t), num(gbps(static_cast<double>(bytes) * passes, t)), flag(good)});
      section.verified = section.verified && good;
      GNM_CUDA_CHECK(cudaMemsetAsync(d_out.data(), 0, bytes, s));
      return t;
    };
    //! [zero_copy]
    add_row("copy to the device (pinned), then the kernel", 1, [&] {
      GNM_CUDA_CHECK(cudaMemcpyAsync(d_in.data(), h.host(), bytes, cudaMemcpyHostToDevice, s));
      affine(d_in.data(), d_out.data(), count, kA, kB, s);
    });
    const double t_zero = add_row("zero-copy: the kernel reads mapped host memory", 1, [&] {
      affine(h.device(), d_out.data(), count, kA, kB, s);
    });
    //! [zero_copy]
    add_row("zero-copy, read twice (two kernels)", 2, [&] {
      affine(h.device(), d_out.data(), count, kA, kB, s);
      affine(h.device(), d_out.data(), count, kA, kB, s);
    });
    add_row("copy once, then two kernels on device memory", 1, [&] {
      GNM_CUDA_CHECK(cudaMemcpyAsync(d_in.data(), h.host(), bytes, cudaMemcpyHostToDevice, s));
      affine(d_in.data(), d_out.data(), count, kA, kB, s);
      affine(d_in.data(), d_out.data(), count, kA, kB, s);
    });
    section.add(zc);
    section.figures.emplace_back("zero_copy_GBps", gbps(static_cast<double>(bytes), t_zero));
  } else {
    std::printf("zero-copy: the device cannot map host memory (canMapHostMemory = 0)\n");
  }
  std::printf("\n");
  return section;
}

}  // namespace chapter08
