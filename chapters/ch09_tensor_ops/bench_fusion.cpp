// ch09_bench_fusion: what kernel fusion saves (chapter 9.4), on (4096, 1024) f32 operands.
//
//   cmake --build build --target ch09_bench_fusion
//   build/chapters/ch09_tensor_ops/ch09_bench_fusion --benchmark_out=fusion.json --benchmark_out_format=json
//   build/chapters/ch09_tensor_ops/ch09_bench_fusion --benchmark_filter=cpu   # CPU rows only
//
// Two workloads, each as the op-by-op chain, the fused executor (gnm::fused::evaluate) and, for
// the first, gnm::bias_act:
//   bias_act   act(x + b),          x (4096, 1024), b (1024), act = relu or gelu
//   chain      act(a · b + 1),      a, b (4096, 1024), act = relu or sigmoid
// Counters:
//   bytes_per_second   bytes the variant actually moves over wall (CPU) or event (GPU) time
//   passes   those bytes over one fused pass's (inputs read once + output written once), i.e. how
//            many times the variant streams the data set through memory
//   MB       bytes moved per call
// Byte model: each op reads its inputs and writes its output once; an intermediate is written by
// one op and read by the next. bias (4 KiB) is counted but is negligible. For bias + act: fused
// 16 MiB in + 16 MiB out = 32 MiB; unfused add (x, b → t) then act (t → y) = 64 MiB: 2 passes.
// For the chain: fused 3 × 16 MiB = 48 MiB; unfused mul 48 + add 32 + sigmoid 32 = 112 MiB,
// 2.33 passes. A bandwidth-bound kernel's time follows its bytes, so the fused variants should
// approach the ratio of passes; a compute-heavy activation (erf-based gelu on a CPU) narrows it.
// CPU rows use the engine's default thread pool; GPU rows (CUDA builds, on a device) time with
// CUDA events and manual time, after a warm-up call.
#include <benchmark/benchmark.h>

#include <functional>
#include <string>

#include "gnm/core/thread_pool.hpp"
#include "gnm/tensor/fusion.hpp"
#include "gnm/tensor/ops.hpp"

#if GNM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "gnm/cuda/device.hpp"
#include "gnm/cuda/stream.hpp"
#endif

namespace {

using gnm::Activation;
using gnm::Tensor;
namespace fused = gnm::fused;

constexpr std::int64_t kRows = 4096, kCols = 1024;
constexpr double kMat = 4.0 * kRows * kCols;  // bytes of one (4096, 1024) f32 tensor
constexpr double kVec = 4.0 * kCols;           // bytes of the bias

struct Operands {
  Tensor x, b, a2, b2;  // bias_act: x, b; chain: a2, b2
};

Operands make_operands(gnm::Device device) {
  gnm::manual_seed(9);
  Operands o;
  o.x = gnm::rand({kRows, kCols}, {}, -3, 3).to(device);
  o.b = gnm::rand({kCols}, {}, -1, 1).to(device);
  o.a2 = gnm::rand({kRows, kCols}, {}, -2, 2).to(device);
  o.b2 = gnm::rand({kRows, kCols}, {}, -2, 2).to(device);
  return o;
}

const Operands& cpu_operands() {
  static const Operands o = make_operands(gnm::Device::cpu());
  return o;
}

Tensor apply_act(const Tensor& t, Activation act) {
  return act == Activation::relu ? gnm::relu(t) : gnm::gelu(t);
}

fused::Expr fused_act(const fused::Expr& e, Activation act) {
  return act == Activation::relu ? fused::relu(e) : fused::gelu(e);
}

void set_counters(benchmark::State& state, double bytes, double fused_bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  state.counters["passes"] = bytes / fused_bytes;
  state.counters["MB"] = bytes / 1e6;
}

// One benchmark body for every variant: `run` produces the result tensor.
void run_cpu(benchmark::State& state, const std::function<Tensor()>& run, double bytes,
             double fused_bytes) {
  for (auto _ : state) {
    Tensor y = run();
    benchmark::DoNotOptimize(y.data_ptr());
  }
  set_counters(state, bytes, fused_bytes);
}

const double kBiasFused = kMat + kVec + kMat;
const double kBiasUnfused = (kMat + kVec + kMat) + (kMat + kMat);
const double kChainFused = 3 * kMat;
const double kChainUnfused = 3 * kMat + 2 * kMat + 2 * kMat;

Activation act_of(const benchmark::State& state) {
  return state.range(0) == 0 ? Activation::relu : Activation::gelu;
}

// The chain's activation: arg 0 relu (cheap: memory-bound), 1 sigmoid (an expf per element).
Tensor chain_unfused(const Operands& o, const benchmark::State& state) {
  const Tensor t = o.a2 * o.b2 + 1.0;
  return state.range(0) == 0 ? gnm::relu(t) : gnm::sigmoid(t);
}
fused::Program chain_fused(const benchmark::State& state) {
  const fused::Expr t = fused::arg(0) * fused::arg(1) + 1.0;
  return fused::compile(state.range(0) == 0 ? fused::relu(t) : fused::sigmoid(t));
}

void cpu_bias_unfused(benchmark::State& state) {
  const Operands& o = cpu_operands();
  const Activation act = act_of(state);
  run_cpu(state, [&] { return apply_act(o.x + o.b, act); }, kBiasUnfused, kBiasFused);
}
void cpu_bias_fused_executor(benchmark::State& state) {
  const Operands& o = cpu_operands();
  const fused::Program p = fused::compile(fused_act(fused::arg(0) + fused::arg(1), act_of(state)));
  run_cpu(state, [&] { return fused::evaluate(p, {o.x, o.b}); }, kBiasFused, kBiasFused);
}
void cpu_bias_act(benchmark::State& state) {
  const Operands& o = cpu_operands();
  const Activation act = act_of(state);
  run_cpu(state, [&] { return gnm::bias_act(o.x, o.b, act); }, kBiasFused, kBiasFused);
}
void cpu_chain_unfused(benchmark::State& state) {
  const Operands& o = cpu_operands();
  run_cpu(state, [&] { return chain_unfused(o, state); }, kChainUnfused, kChainFused);
}
void cpu_chain_fused_executor(benchmark::State& state) {
  const Operands& o = cpu_operands();
  const fused::Program p = chain_fused(state);
  run_cpu(state, [&] { return fused::evaluate(p, {o.a2, o.b2}); }, kChainFused, kChainFused);
}

#if GNM_HAVE_CUDA
bool have_gpu() {
  static const bool have = !gnm::cuda::query_devices().devices.empty();
  return have;
}

const Operands& gpu_operands() {
  static const Operands o = make_operands(gnm::Device::cuda(0));
  return o;
}

void run_gpu(benchmark::State& state, const std::function<Tensor()>& run, double bytes,
             double fused_bytes) {
  if (!have_gpu()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  (void)run();  // warm-up: caching allocator blocks, first-launch costs
  gnm::cuda::EventTimer timer;
  for (auto _ : state) {
    timer.start();
    Tensor y = run();
    state.SetIterationTime(static_cast<double>(timer.stop()) / 1e3);
  }
  set_counters(state, bytes, fused_bytes);
}

void gpu_bias_unfused(benchmark::State& state) {
  if (!have_gpu()) return run_gpu(state, {}, 0, 1);
  const Operands& o = gpu_operands();
  const Activation act = act_of(state);
  run_gpu(state, [&] { return apply_act(o.x + o.b, act); }, kBiasUnfused, kBiasFused);
}
void gpu_bias_fused_executor(benchmark::State& state) {
  if (!have_gpu()) return run_gpu(state, {}, 0, 1);
  const Operands& o = gpu_operands();
  const fused::Program p = fused::compile(fused_act(fused::arg(0) + fused::arg(1), act_of(state)));
  run_gpu(state, [&] { return fused::evaluate(p, {o.x, o.b}); }, kBiasFused, kBiasFused);
}
void gpu_bias_act(benchmark::State& state) {
  if (!have_gpu()) return run_gpu(state, {}, 0, 1);
  const Operands& o = gpu_operands();
  const Activation act = act_of(state);
  run_gpu(state, [&] { return gnm::bias_act(o.x, o.b, act); }, kBiasFused, kBiasFused);
}
void gpu_chain_unfused(benchmark::State& state) {
  if (!have_gpu()) return run_gpu(state, {}, 0, 1);
  const Operands& o = gpu_operands();
  run_gpu(state, [&] { return chain_unfused(o, state); }, kChainUnfused, kChainFused);
}
void gpu_chain_fused_executor(benchmark::State& state) {
  if (!have_gpu()) return run_gpu(state, {}, 0, 1);
  const Operands& o = gpu_operands();
  const fused::Program p = chain_fused(state);
  run_gpu(state, [&] { return fused::evaluate(p, {o.a2, o.b2}); }, kChainFused, kChainFused);
}
#endif

// bias_act rows: gelu:0 = relu, gelu:1 = gelu; chain rows: sigmoid:0 = relu, sigmoid:1 = sigmoid.
// Variants of one workload are registered next to each other so they
// see the same state of a noisy machine.
void register_all() {
  auto cpu = [](const char* name, void (*fn)(benchmark::State&), const char* arg_name) {
    benchmark::RegisterBenchmark(name, fn)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->ArgName(arg_name)
        ->Arg(0)
        ->Arg(1);
  };
  cpu("cpu/bias_act/unfused", cpu_bias_unfused, "gelu");
  cpu("cpu/bias_act/fused_executor", cpu_bias_fused_executor, "gelu");
  cpu("cpu/bias_act/bias_act", cpu_bias_act, "gelu");
  cpu("cpu/chain/unfused", cpu_chain_unfused, "sigmoid");
  cpu("cpu/chain/fused_executor", cpu_chain_fused_executor, "sigmoid");
#if GNM_HAVE_CUDA
  auto gpu = [](const char* name, void (*fn)(benchmark::State&), const char* arg_name) {
    benchmark::RegisterBenchmark(name, fn)
        ->Unit(benchmark::kMillisecond)
        ->UseManualTime()
        ->ArgName(arg_name)
        ->Arg(0)
        ->Arg(1);
  };
  gpu("gpu/bias_act/unfused", gpu_bias_unfused, "gelu");
  gpu("gpu/bias_act/fused_executor", gpu_bias_fused_executor, "gelu");
  gpu("gpu/bias_act/bias_act", gpu_bias_act, "gelu");
  gpu("gpu/chain/unfused", gpu_chain_unfused, "sigmoid");
  gpu("gpu/chain/fused_executor", gpu_chain_fused_executor, "sigmoid");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("cpu_threads", std::to_string(gnm::default_thread_pool().size()));
  benchmark::AddCustomContext("shape", "(4096, 1024) f32");
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
