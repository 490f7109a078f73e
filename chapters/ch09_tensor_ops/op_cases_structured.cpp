// Section 9.3, structured part: reductions, matmul/bmm/linear, softmax and losses, joining and
// indexing, each with its double reference and error model (Note [Error units] in op_cases.hpp).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <string>

#include "gnm/core/philox.hpp"
#include "gnm/tensor/ops.hpp"
#include "op_cases.hpp"

namespace chapter9 {

namespace {

using gnm::Tensor;
using Args = std::vector<Tensor>;
using Ref = std::function<RefResult(const HostInputs&, const std::vector<double>&)>;

OpCase make(std::string name, std::string shapes, std::string model, double units, Args inputs,
            std::function<Tensor(const Args&)> op, Ref reference, double flops = 0.0) {
  return {std::move(name),   std::move(shapes), std::move(model),     units,
          std::move(inputs), std::move(op),     std::move(reference), flops};
}

// Applies `row_fn` to each of `rows` rows of `cols` values: it appends its outputs to r.
using Row = std::span<const double>;

template <class F>
RefResult by_rows(const std::vector<double>& x, std::int64_t rows, std::int64_t cols, F row_fn) {
  RefResult r;
  for (std::int64_t i = 0; i < rows; ++i) {
    row_fn(Row(x).subspan(static_cast<std::size_t>(i * cols), static_cast<std::size_t>(cols)), r);
  }
  return r;
}

double sum_abs(Row v) {
  double s = 0;
  for (double x : v) s += std::fabs(x);
  return s;
}

// A sum over K terms: value Σ, scale Σ|x|.
void sum_row(Row row, RefResult& r) {
  r.value.push_back(std::accumulate(row.begin(), row.end(), 0.0));
  r.scale.push_back(sum_abs(row));
}

// The sums of the columns of a (rows, cols) matrix.
RefResult column_sums(const std::vector<double>& x, std::int64_t rows, std::int64_t cols) {
  RefResult r;
  for (std::int64_t j = 0; j < cols; ++j) {
    std::vector<double> col;
    for (std::int64_t i = 0; i < rows; ++i)
      col.push_back(x[static_cast<std::size_t>(i * cols + j)]);
    sum_row(col, r);
  }
  return r;
}

// log Σ exp(x − m) and m of one row of logits.
std::pair<double, double> logsumexp(Row row) {
  const double m = *std::max_element(row.begin(), row.end());
  double z = 0;
  for (double x : row) z += std::exp(x - m);
  return {std::log(z), m};
}

// C (batch, M, N) = A (batch, M, K) · B (batch, K, N), optionally + bias (N): value and Σ|terms|.
RefResult gemm_ref(const std::vector<double>& A, const std::vector<double>& B,
                   const std::vector<double>* bias, std::int64_t batch, std::int64_t M,
                   std::int64_t K, std::int64_t N, bool b_transposed) {
  RefResult r;
  for (std::int64_t p = 0; p < batch; ++p) {
    for (std::int64_t i = 0; i < M; ++i) {
      for (std::int64_t j = 0; j < N; ++j) {
        double s = bias ? (*bias)[static_cast<std::size_t>(j)] : 0.0;
        double mass = std::fabs(s);
        for (std::int64_t k = 0; k < K; ++k) {
          const double b = b_transposed ? B[static_cast<std::size_t>((p * N + j) * K + k)]
                                        : B[static_cast<std::size_t>((p * K + k) * N + j)];
          const double t = A[static_cast<std::size_t>((p * M + i) * K + k)] * b;
          s += t;
          mass += std::fabs(t);
        }
        r.value.push_back(s);
        r.scale.push_back(mass);
      }
    }
  }
  return r;
}

// Integer indices in [0, n) from a Philox stream, as an i64 tensor of `shape`.
Tensor indices(const gnm::Shape& shape, std::int64_t n, std::uint64_t seed) {
  const gnm::PhiloxRng rng(seed, 0);
  std::vector<std::int64_t> v(static_cast<std::size_t>(gnm::shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = std::min<std::int64_t>(
        n - 1, static_cast<std::int64_t>(rng.uniform(i) * static_cast<float>(n)));
  }
  return gnm::from_vector(std::span<const std::int64_t>(v), shape);
}

RefResult exact(std::vector<double> v) {
  RefResult r{std::move(v), {}};
  r.scale.assign(r.value.size(), 0.0);
  return r;
}

}  // namespace

void add_structured_cases(std::vector<OpCase>& cases, std::int64_t R, std::int64_t C,
                          std::int64_t n) {
  const gnm::Shape rc = {R, C};
  const Tensor x = uniform_tensor(rc, 11, -1.0f, 1.0f);
  const Tensor y = uniform_tensor(rc, 12, -1.0f, 1.0f);
  const Tensor logits = uniform_tensor(rc, 13, -4.0f, 4.0f);
  const auto Rd = static_cast<double>(R), Cd = static_cast<double>(C);

  // --- Reductions: K-term sums are within K·u·Σ|x| in any order (Higham). -------------------
  cases.push_back(make(
      "sum", paren(rc), "K-term sum", Rd * Cd, {x}, [](const Args& in) { return gnm::sum(in[0]); },
      [](const HostInputs& in, const std::vector<double>&) {
        RefResult r;
        sum_row(in[0], r);
        return r;
      }));
  cases.push_back(make(
      "sum(dim 1)", paren(rc), "K-term sum", Cd, {x},
      [](const Args& in) { return gnm::sum(in[0], {1}); },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return by_rows(in[0], R, C, sum_row);
      }));
  cases.push_back(make(
      "sum(dim 0)", paren(rc), "K-term sum", Rd, {x},
      [](const Args& in) { return gnm::sum(in[0], {0}); },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return column_sums(in[0], R, C);
      }));
  cases.push_back(make(
      "sum_to((1, C))", paren(rc) + " → (1, " + std::to_string(C) + ")", "K-term sum", Rd, {x},
      [C](const Args& in) {
        return gnm::sum_to(in[0], {1, C});
      },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return column_sums(in[0], R, C);
      }));
  cases.push_back(make(
      "mean(dim 1)", paren(rc), "K-term sum + 1", Cd + 1, {x},
      [](const Args& in) { return gnm::mean(in[0], {1}); },
      [R, C, Cd](const HostInputs& in, const std::vector<double>&) {
        RefResult r = by_rows(in[0], R, C, sum_row);
        for (auto& v : r.value) v /= Cd;
        for (auto& s : r.scale) s /= Cd;
        return r;
      }));
  // Two-pass variance: the mean is off by ≤ u·Σ|x|; each (x − μ)² then carries 2|x − μ|·that,
  // and the K-term sum of squares its own K·u: (K + 4) units of (Σd² + 2Σ|d|·mean|x|)/(K − 1).
  cases.push_back(make(
      "var(dim 1)", paren(rc), "two-pass", Cd + 4, {x},
      [](const Args& in) { return gnm::var(in[0], {1}); },
      [R, C, Cd](const HostInputs& in, const std::vector<double>&) {
        return by_rows(in[0], R, C, [Cd](Row row, RefResult& r) {
          const double mu = std::accumulate(row.begin(), row.end(), 0.0) / Cd;
          double ss = 0, sd = 0;
          for (double v : row) {
            ss += (v - mu) * (v - mu);
            sd += std::fabs(v - mu);
          }
          r.value.push_back(ss / (Cd - 1));
          r.scale.push_back((ss + 2 * sd * sum_abs(row) / Cd) / (Cd - 1));
        });
      }));
  cases.push_back(make(
      "max", paren(rc), "exact", 0, {x}, [](const Args& in) { return gnm::max(in[0]); },
      [](const HostInputs& in, const std::vector<double>&) {
        return exact({*std::max_element(in[0].begin(), in[0].end())});
      }));
  cases.push_back(make(
      "max(dim 1)", paren(rc), "exact", 0, {x}, [](const Args& in) { return gnm::max(in[0], 1); },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return by_rows(in[0], R, C, [](Row row, RefResult& r) {
          r.value.push_back(*std::max_element(row.begin(), row.end()));
          r.scale.push_back(0.0);
        });
      }));
  cases.push_back(make(
      "argmax(dim 1)", paren(rc), "exact (i64)", 0, {x},
      [](const Args& in) { return gnm::argmax(in[0], 1); },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return by_rows(in[0], R, C, [](Row row, RefResult& r) {
          r.value.push_back(
              static_cast<double>(std::max_element(row.begin(), row.end()) - row.begin()));
          r.scale.push_back(0.0);
        });
      }));

  // --- Linear algebra: K-term dot products, K units of Σ|a·b| (+1 for a bias). ---------------
  const auto nd = static_cast<double>(n);
  const Tensor ga = uniform_tensor({n, n}, 21, -1.0f, 1.0f);
  const Tensor gb = uniform_tensor({n, n}, 22, -1.0f, 1.0f);
  const Tensor gbias = uniform_tensor({n}, 23, -1.0f, 1.0f);
  cases.push_back(make(
      "matmul", paren({n, n}) + " " + paren({n, n}), "K-term dot", nd, {ga, gb},
      [](const Args& in) { return gnm::matmul(in[0], in[1]); },
      [n](const HostInputs& in, const std::vector<double>&) {
        return gemm_ref(in[0], in[1], nullptr, 1, n, n, n, false);
      },
      2 * nd * nd * nd));
  const std::int64_t h = std::max<std::int64_t>(1, n / 2), batch = 4;
  const Tensor ba = uniform_tensor({batch, h, h}, 24, -1.0f, 1.0f);
  const Tensor bb = uniform_tensor({batch, h, h}, 25, -1.0f, 1.0f);
  const auto hd = static_cast<double>(h);
  cases.push_back(make(
      "bmm", paren({batch, h, h}) + " " + paren({batch, h, h}), "K-term dot", hd, {ba, bb},
      [](const Args& in) { return gnm::bmm(in[0], in[1]); },
      [h, batch](const HostInputs& in, const std::vector<double>&) {
        return gemm_ref(in[0], in[1], nullptr, batch, h, h, h, false);
      },
      2 * static_cast<double>(batch) * hd * hd * hd));
  cases.push_back(make(
      "linear", paren({n, n}) + " " + paren({n, n}) + " " + paren({n}), "K-term dot + bias", nd + 1,
      {ga, gb, gbias}, [](const Args& in) { return gnm::linear(in[0], in[1], in[2]); },
      [n](const HostInputs& in, const std::vector<double>&) {
        return gemm_ref(in[0], in[1], &in[2], 1, n, n, n, true);
      },
      2 * nd * nd * nd));

  // --- Softmax and losses (logits in [−4, 4)). ------------------------------------------------
  // softmax: x − m (≤ 8u absolute), expf (2u), the C-term sum, the division: (C + 12)·u·|v|.
  cases.push_back(make(
      "softmax(dim 1)", paren(rc), "C-term sum", Cd + 12, {logits},
      [](const Args& in) { return gnm::softmax(in[0], 1); },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return by_rows(in[0], R, C, [](Row row, RefResult& r) {
          const auto [lz, m] = logsumexp(row);
          for (double v : row) {
            r.value.push_back(std::exp(v - m - lz));
            r.scale.push_back(r.value.back());
          }
        });
      }));
  // log_softmax: the sum's relative error becomes an absolute one after log: (C + 12) units of
  // 1 + |x − m| + |log Z| + |v|.
  cases.push_back(make(
      "log_softmax(dim 1)", paren(rc), "C-term sum, log", Cd + 12, {logits},
      [](const Args& in) { return gnm::log_softmax(in[0], 1); },
      [R, C](const HostInputs& in, const std::vector<double>&) {
        return by_rows(in[0], R, C, [](Row row, RefResult& r) {
          const auto [lz, m] = logsumexp(row);
          for (double v : row) {
            r.value.push_back(v - m - lz);
            r.scale.push_back(1 + std::fabs(v - m) + std::fabs(lz) + std::fabs(v - m - lz));
          }
        });
      }));
  const Tensor target = indices({R}, C, 31);
  for (const double smoothing : {0.0, 0.1}) {
    // Each row's loss has log_softmax's error; the mean adds R units of the mean |loss|.
    cases.push_back(make(
        smoothing == 0.0 ? "cross_entropy" : "cross_entropy(smoothing 0.1)",
        paren(rc) + " " + paren({R}) + " i64", "C + R-term sums", Cd + Rd + 16, {logits, target},
        [smoothing](const Args& in) {
          return gnm::cross_entropy(in[0], in[1], gnm::Reduction::mean, smoothing);
        },
        [R, C, Rd, smoothing](const HostInputs& in, const std::vector<double>&) {
          double loss = 0, scale = 0;
          for (std::int64_t i = 0; i < R; ++i) {
            const Row row =
                Row(in[0]).subspan(static_cast<std::size_t>(i * C), static_cast<std::size_t>(C));
            const auto [lz, m] = logsumexp(row);
            const auto t = static_cast<std::size_t>(in[1][static_cast<std::size_t>(i)]);
            double uniform_part = 0, spread = 0;
            for (double v : row) {
              uniform_part += (lz + m - v) / static_cast<double>(C);
              spread += std::fabs(v - m) / static_cast<double>(C);
            }
            const double li = (1 - smoothing) * (lz + m - row[t]) + smoothing * uniform_part;
            loss += li / Rd;
            scale += (1 + std::fabs(row[t] - m) + spread + std::fabs(lz) + std::fabs(li)) / Rd;
          }
          return RefResult{{loss}, {scale}};
        }));
  }
  // mse: d = x − y, d² and the mean: (K + 4) units of Σd²/K.
  cases.push_back(make(
      "mse_loss", paren(rc) + " " + paren(rc), "K-term sum", Rd * Cd + 4, {x, y},
      [](const Args& in) { return gnm::mse_loss(in[0], in[1]); },
      [](const HostInputs& in, const std::vector<double>&) {
        double s = 0;
        for (std::size_t i = 0; i < in[0].size(); ++i)
          s += (in[0][i] - in[1][i]) * (in[0][i] - in[1][i]);
        const auto k = static_cast<double>(in[0].size());
        return RefResult{{s / k}, {s / k}};
      }));

  // --- Joining and indexing: copies, exact. ----------------------------------------------------
  const std::int64_t half = std::max<std::int64_t>(1, C / 2);
  const Tensor xh = uniform_tensor({R, half}, 41, -1.0f, 1.0f);
  cases.push_back(make(
      "cat(dim 1)", paren(rc) + " " + paren({R, half}), "exact", 0, {x, xh},
      [](const Args& in) {
        return gnm::cat({in[0], in[1]}, 1);
      },
      [R, C, half](const HostInputs& in, const std::vector<double>&) {
        std::vector<double> v;
        for (std::int64_t i = 0; i < R; ++i) {
          for (std::int64_t j = 0; j < C; ++j)
            v.push_back(in[0][static_cast<std::size_t>(i * C + j)]);
          for (std::int64_t j = 0; j < half; ++j)
            v.push_back(in[1][static_cast<std::size_t>(i * half + j)]);
        }
        return exact(std::move(v));
      }));
  cases.push_back(make(
      "stack(dim 0)", paren(rc) + " " + paren(rc), "exact", 0, {x, y},
      [](const Args& in) {
        return gnm::stack({in[0], in[1]}, 0);
      },
      [](const HostInputs& in, const std::vector<double>&) {
        std::vector<double> v = in[0];
        v.insert(v.end(), in[1].begin(), in[1].end());
        return exact(std::move(v));
      }));
  const std::int64_t picks = std::max<std::int64_t>(1, R / 2);
  cases.push_back(make(
      "index_select(dim 0)", paren(rc) + " " + paren({picks}) + " i64", "exact", 0,
      {x, indices({picks}, R, 42)},
      [](const Args& in) { return gnm::index_select(in[0], 0, in[1]); },
      [C](const HostInputs& in, const std::vector<double>&) {
        std::vector<double> v;
        for (double row : in[1]) {
          const auto first =
              in[0].begin() + static_cast<std::ptrdiff_t>(row) * static_cast<std::ptrdiff_t>(C);
          v.insert(v.end(), first, first + static_cast<std::ptrdiff_t>(C));
        }
        return exact(std::move(v));
      }));
  // The indexing ops read only what they select: rows or elements read + written, + the indices.
  cases.back().bytes = static_cast<double>(picks) * (8.0 * Cd + 8.0);
  constexpr std::int64_t kGathered = 5;
  cases.push_back(make(
      "gather(dim 1)", paren(rc) + " " + paren({R, kGathered}) + " i64", "exact", 0,
      {x, indices({R, kGathered}, C, 43)},
      [](const Args& in) { return gnm::gather(in[0], 1, in[1]); },
      [C](const HostInputs& in, const std::vector<double>&) {
        std::vector<double> v;
        for (std::size_t k = 0; k < in[1].size(); ++k) {
          const auto row = static_cast<std::int64_t>(k) / kGathered;
          v.push_back(
              in[0][static_cast<std::size_t>(row * C + static_cast<std::int64_t>(in[1][k]))]);
        }
        return exact(std::move(v));
      }));
  cases.back().bytes = Rd * kGathered * (4.0 + 4.0 + 8.0);
  constexpr std::int64_t kVocab = 1000, kDim = 64, kTokens = 8;
  cases.push_back(make(
      "embedding", paren({kVocab, kDim}) + " " + paren({R, kTokens}) + " i64", "exact", 0,
      {uniform_tensor({kVocab, kDim}, 44, -1.0f, 1.0f), indices({R, kTokens}, kVocab, 45)},
      [](const Args& in) { return gnm::embedding(in[0], in[1]); },
      [](const HostInputs& in, const std::vector<double>&) {
        std::vector<double> v;
        for (double token : in[1]) {
          const auto first = in[0].begin() + static_cast<std::ptrdiff_t>(token) * kDim;
          v.insert(v.end(), first, first + kDim);
        }
        return exact(std::move(v));
      }));
  cases.back().bytes = Rd * kTokens * (8.0 * kDim + 8.0);
}

}  // namespace chapter9
