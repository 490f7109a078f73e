// Section 2.2 — the cost of convolution: direct loops versus im2col + GEMM, measured.
//
// For a few typical layer shapes: the arithmetic (FLOPs), the compulsory memory traffic of each
// method and im2col's extra memory (gnm::cpu::conv2d_cost), the measured time and GFLOP/s of the
// direct seven-loop convolution and of im2col + GEMM (with the share spent in im2col alone), and
// a check that the two agree within the error model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gnm/cpu/conv.hpp"

namespace chapter2 {

/// One layer shape, measured.
struct ConvCostRow {
  std::string name;
  gnm::cpu::Conv2dParams params;
  gnm::cpu::Conv2dOutputShape out;
  gnm::cpu::Conv2dCost cost;
  double direct_ms = 0;         // median of conv2d_direct
  double im2col_ms = 0;         // median of conv2d_im2col (im2col + GEMM)
  double im2col_only_ms = 0;    // median of im2col alone, every image (0: skipped, 1×1)
  double direct_gflops = 0;
  double im2col_gflops = 0;
  double diff_ratio = 0;        // max |direct − im2col| / bound (≤ 1 passes)
  bool ok = false;
};

/// The table of section 2.2.
struct ConvCostTable {
  std::vector<ConvCostRow> rows;
  int threads = 1;  // threads of the GEMM (the direct loops run on one)
  bool verified = false;
};

/// Measures the layer shapes: ResNet's 3×3 64→64 on 56×56, a 1×1 256→64 on 56×56, and the
/// 7×7 stride-2 first layer 3→64 on 224×224 (batch 1). `quick` shrinks the spatial sizes by 4
/// for smoke tests. The GEMM runs on a pool of `threads` threads; 1 compares like with like.
ConvCostTable run_conv_cost(bool quick = false, int threads = 1, int repeat = 3);
void print(const ConvCostTable& t);
std::string to_json(const ConvCostTable& t);

}  // namespace chapter2
