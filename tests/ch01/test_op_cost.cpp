// Chapter 1's FLOP-and-byte model against small cases counted by hand.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "gnm/core/error.hpp"
#include "op_cost.hpp"

using namespace gnm::ch01;

namespace {

std::map<std::string, OpCost> by_name(const std::vector<OpCost>& ops) {
  std::map<std::string, OpCost> m;
  for (const auto& op : ops) m[op.name] = op;
  return m;
}

double total_flops(const std::vector<OpCost>& ops) {
  double f = 0;
  for (const auto& op : ops) f += op.count * op.flops;
  return f;
}

}  // namespace

TEST(OpCost, GemmCountsMultiplyAddsAndEachMatrixOnce) {
  // (2x3)(3x4): 8 outputs, each 3 multiplies + 3 adds = 48 FLOPs; 6 + 12 + 8 = 26 floats.
  const OpCost g = gemm_op("g", 2, 4, 3, false);
  EXPECT_EQ(g.kind, OpKind::gemm);
  EXPECT_EQ(g.flops, 48);
  EXPECT_EQ(g.bytes, 4 * 26);
  // The bias adds one FLOP per output and reads N floats.
  const OpCost b = gemm_op("b", 2, 4, 3, true);
  EXPECT_EQ(b.flops, 48 + 8);
  EXPECT_EQ(b.bytes, 4 * (26 + 4));
  // Batched: everything times the batch.
  const OpCost bb = gemm_op("bb", 2, 4, 3, false, 5);
  EXPECT_EQ(bb.flops, 5 * 48);
  EXPECT_EQ(bb.bytes, 5 * 4 * 26);
  // Square n: 2n^3 / (12 n^2) = n / 6.
  EXPECT_DOUBLE_EQ(gemm_intensity(1024, 1024, 1024), 1024.0 / 6.0);
  EXPECT_DOUBLE_EQ(gemm_op("sq", 60, 60, 60, false).intensity(), 10.0);
}

TEST(OpCost, ConvCountsDotProductsOfLengthCinKK) {
  // Input (2, 3, 7, 7), 4 filters 3x3, stride 2, no padding: output (2, 4, 3, 3).
  // FLOPs: 2 * (2*4*3*3 outputs) * (3*3*3 per dot product) = 2 * 72 * 27 = 3888.
  // Floats: input 2*3*49 = 294, weights 4*3*9 = 108, output 72: 474.
  const OpCost c = conv2d_op("c", 2, 3, 7, 7, 4, 3, 2, 0);
  EXPECT_EQ(c.kind, OpKind::conv);
  EXPECT_EQ(c.flops, 3888);
  EXPECT_EQ(c.bytes, 4 * 474);
  // Same padding (pad 1, stride 1) keeps the size: (1, 1, 4, 4) -> (1, 2, 4, 4).
  const OpCost same = conv2d_op("s", 1, 1, 4, 4, 2, 3, 1, 1);
  EXPECT_EQ(same.flops, 2.0 * 32 * 9);
  EXPECT_EQ(same.bytes, 4.0 * (16 + 18 + 32));
}

TEST(OpCost, TwoLayerMlpByHand) {
  // B=2, input 3, two hidden layers of 4, 5 classes.
  MlpShape s;
  s.batch = 2;
  s.input = 3;
  s.hidden = 4;
  s.layers = 2;
  s.classes = 5;
  const auto ops = mlp_ops(s);
  auto m = by_name(ops);
  ASSERT_EQ(ops.size(), 5u);
  // fc1 (2x3)(3x4) + bias: 2*2*4*3 + 8 = 56 FLOPs; 6 + 12 + 8 + 4 = 30 floats.
  EXPECT_EQ(m["fc1"].flops, 56);
  EXPECT_EQ(m["fc1"].bytes, 120);
  // fc2 (2x4)(4x4) + bias: 64 + 8 = 72 FLOPs; 8 + 16 + 8 + 4 = 36 floats.
  EXPECT_EQ(m["fc2..2"].flops, 72);
  EXPECT_EQ(m["fc2..2"].bytes, 144);
  EXPECT_EQ(m["fc2..2"].count, 1);
  // relu on 2x4, twice: 8 FLOPs, 8 floats in + 8 out.
  EXPECT_EQ(m["relu"].flops, 8);
  EXPECT_EQ(m["relu"].bytes, 64);
  EXPECT_EQ(m["relu"].count, 2);
  // out (2x4)(4x5) + bias: 80 + 10 = 90 FLOPs; 8 + 20 + 10 + 5 = 43 floats.
  EXPECT_EQ(m["out"].flops, 90);
  EXPECT_EQ(m["out"].bytes, 172);
  // softmax 2x5: 5 FLOPs per element; 10 in + 10 out.
  EXPECT_EQ(m["softmax"].flops, 50);
  EXPECT_EQ(m["softmax"].bytes, 80);
  EXPECT_EQ(total_flops(ops), 56 + 72 + 2 * 8 + 90 + 50);
  // One hidden layer has no hidden-to-hidden GEMM.
  s.layers = 1;
  EXPECT_EQ(by_name(mlp_ops(s)).count("fc2..1"), 0u);
}

TEST(OpCost, OneBlockCnnByHand) {
  // Input (1, 1, 4, 4), one block of 2 channels, 3 classes.
  CnnShape s;
  s.batch = 1;
  s.in_channels = 1;
  s.image = 4;
  s.channels = 2;
  s.layers = 1;
  s.classes = 3;
  auto m = by_name(cnn_ops(s));
  EXPECT_EQ(m["conv1"].flops, 576);         // 2 * (2*16 outputs) * 9
  EXPECT_EQ(m["conv1"].bytes, 4 * 66);      // 16 + 18 + 32
  EXPECT_EQ(m["bn1"].flops, 8 * 32);        // 8 per element
  EXPECT_EQ(m["bn1"].bytes, 4 * (64 + 4));  // x, y, gamma and beta of 2 channels
  EXPECT_EQ(m["relu1"].flops, 32);
  EXPECT_EQ(m["pool1"].flops, 3 * 8);       // 8 outputs, 3 comparisons each
  EXPECT_EQ(m["pool1"].bytes, 4 * (32 + 8));
  EXPECT_EQ(m["avgpool"].flops, 2 * (4 + 1));  // 2 channels of 2x2: 4 adds + 1 divide each
  EXPECT_EQ(m["fc"].flops, 12 + 3);            // (1x2)(2x3) + bias
  EXPECT_EQ(m["softmax"].flops, 15);
  // Channels double per block and the image halves: conv2 of a 2-block CNN on 8x8.
  s.image = 8;
  s.layers = 2;
  m = by_name(cnn_ops(s));
  EXPECT_EQ(m["conv2"].flops, 2.0 * (4 * 4 * 4) * (2 * 9));  // (1,2,4,4) -> (1,4,4,4)
}

TEST(OpCost, OneTransformerBlockByHand) {
  // B=1, T=4, C=8, H=2 (D=4), one block.
  TransformerShape s;
  s.batch = 1;
  s.seq = 4;
  s.hidden = 8;
  s.heads = 2;
  s.layers = 1;
  const auto ops = transformer_ops(s);
  auto m = by_name(ops);
  ASSERT_EQ(ops.size(), 12u);
  EXPECT_EQ(m["ln1"].flops, 8 * 32);
  EXPECT_EQ(m["ln1"].bytes, 4 * (64 + 16));
  EXPECT_EQ(m["qkv"].flops, 2 * 4 * 24 * 8 + 4 * 24);            // 1536 + 96
  EXPECT_EQ(m["qkv"].bytes, 4 * (32 + 192 + 96 + 24));
  EXPECT_EQ(m["attn.scores"].flops, 2 * (2 * 4 * 4 * 4));        // 2 heads of (4x4)(4x4)
  EXPECT_EQ(m["attn.scores"].bytes, 2 * 4 * (16 + 16 + 16));
  EXPECT_EQ(m["attn.softmax"].flops, 5 * 2 * 4 * 4);             // (1, 2, 4, 4)
  EXPECT_EQ(m["attn.values"].flops, 2 * (2 * 4 * 4 * 4));
  EXPECT_EQ(m["proj"].flops, 2 * 4 * 8 * 8 + 32);
  EXPECT_EQ(m["residual1"].flops, 32);
  EXPECT_EQ(m["residual1"].bytes, 4 * 96);                       // two inputs and one output
  EXPECT_EQ(m["fc1"].flops, 2 * 4 * 32 * 8 + 128);
  EXPECT_EQ(m["gelu"].flops, 9 * 128);
  EXPECT_EQ(m["fc2"].flops, 2 * 4 * 8 * 32 + 32);
  EXPECT_EQ(total_flops(ops), 256 + 1632 + 256 + 160 + 256 + 544 + 32 + 256 + 2176 + 1152 +
                                  2080 + 32);
}

TEST(OpCost, TransformerMatmulsFollowTheKnownFormula) {
  // Per block and token: the weight GEMMs do 2 FLOPs per weight, 2 * 12 C^2 (qkv 3C^2, proj C^2,
  // fc1 and fc2 4C^2 each); attention does 4 T C (scores and values, 2 T C each); the biases add
  // 9 C (3C + C + 4C + C).
  TransformerShape s;
  s.batch = 3;
  s.seq = 128;
  s.hidden = 96;
  s.heads = 4;
  s.layers = 2;
  double matmul = 0;
  for (const auto& op : transformer_ops(s)) {
    if (op.kind == OpKind::gemm) matmul += op.count * op.flops;
  }
  const double layers = 2, tokens = 3 * 128, C = 96, T = 128;
  EXPECT_EQ(matmul, layers * tokens * (24 * C * C + 4 * T * C + 9 * C));
}

TEST(OpCost, RooflinePlacesOpsAndSumsGroups) {
  const Roofline r{100, 10};  // ridge at 10 FLOP/byte
  EXPECT_DOUBLE_EQ(r.ridge(), 10);
  EXPECT_DOUBLE_EQ(r.attainable_gflops(1), 10);    // memory-bound: 1 FLOP/B x 10 GB/s
  EXPECT_DOUBLE_EQ(r.attainable_gflops(100), 100); // compute-bound: the peak
  EXPECT_TRUE(r.memory_bound(9.9));
  EXPECT_FALSE(r.memory_bound(10));
  // 1 GFLOP over 1 GB: memory-bound, 0.1 s; 1 GFLOP over 1 MB: compute-bound, 0.01 s.
  OpCost slow{"slow", OpKind::elementwise, "", 1e9, 1e9, 2};
  OpCost fast{"fast", OpKind::gemm, "", 1e9, 1e6, 1};
  EXPECT_DOUBLE_EQ(r.seconds(slow), 0.1);
  EXPECT_DOUBLE_EQ(r.seconds(fast), 0.01);
  const ModelTotals t = model_totals({slow, fast}, r);
  EXPECT_DOUBLE_EQ(t.flops[static_cast<int>(OpGroup::matmul)], 1e9);
  EXPECT_DOUBLE_EQ(t.flops[static_cast<int>(OpGroup::elementwise)], 2e9);
  EXPECT_DOUBLE_EQ(t.seconds[static_cast<int>(OpGroup::elementwise)], 0.2);
  EXPECT_DOUBLE_EQ(t.total_seconds(), 0.21);
  EXPECT_EQ(op_group(OpKind::softmax), OpGroup::normalization);
  EXPECT_EQ(op_group(OpKind::pooling), OpGroup::elementwise);
  EXPECT_EQ(op_group(OpKind::conv), OpGroup::matmul);
}

TEST(OpCost, BadSizesAreErrorsNamingTheValue) {
  MlpShape mlp;
  mlp.batch = 0;
  EXPECT_THROW(mlp_ops(mlp), gnm::Error);
  try {
    mlp_ops(mlp);
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("MLP batch must be in [1, 2^31], got 0"),
              std::string::npos) << e.what();
  }
  TransformerShape t;
  t.heads = 5;  // does not divide 768
  EXPECT_THROW(transformer_ops(t), gnm::ShapeError);
  t.heads = 12;
  t.seq = -1;
  EXPECT_THROW(transformer_ops(t), gnm::Error);
  CnnShape c;
  c.image = 30;  // 30 / 2^2 is not whole
  EXPECT_THROW(cnn_ops(c), gnm::ShapeError);
  c.image = 28;
  c.layers = 40;
  EXPECT_THROW(cnn_ops(c), gnm::Error);
  EXPECT_THROW(conv2d_op("c", 1, 1, 2, 2, 1, 5, 1, 0), gnm::ShapeError);  // 5x5 kernel, 2x2 image
  EXPECT_THROW(conv2d_op("c", 1, 1, 8, 8, 1, 3, 0, 1), gnm::Error);      // stride 0
  EXPECT_THROW(gemm_op("g", 1, 1, std::int64_t{1} << 40, false), gnm::Error);
  EXPECT_THROW(elementwise_op("e", 0, 1), gnm::Error);
  EXPECT_THROW((Roofline{0, 10}.validate()), gnm::Error);
  EXPECT_THROW((Roofline{10, -1}.validate()), gnm::Error);
}
