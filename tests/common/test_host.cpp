// Host facts, the BLAS report and the CPU vector kernels.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/cpu/blas.hpp"
#include "gnm/cpu/vector.hpp"

TEST(HostInfo, DescribesThisMachine) {
  const auto h = gnm::host_info();
  EXPECT_GT(h.logical_cores, 0);
  EXPECT_FALSE(h.compiler.empty());
  EXPECT_EQ(gnm::cpp_standard_name(h.cplusplus), "C++20");
  EXPECT_GT(h.total_memory, 0u);
  EXPECT_EQ(gnm::format_bytes(512), "512 B");
  EXPECT_EQ(gnm::format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(gnm::format_bytes(3.0 * 1024 * 1024 * 1024), "3.00 GiB");
}

TEST(Blas, ReportsTheLinkedLibrary) {
  const auto b = gnm::cpu::blas_info();
  EXPECT_FALSE(b.name.empty());
#if GNM_HAVE_OPENBLAS
  EXPECT_TRUE(b.available);
  EXPECT_NE(b.config.find("OpenBLAS"), std::string::npos) << b.config;
  EXPECT_GT(b.threads, 0);
#endif
}

TEST(CpuSaxpy, MatchesDoubleReference) {
  std::vector<float> x = {1.0f, -2.0f, 0.5f}, y = {3.0f, 4.0f, -1.0f};
  std::vector<double> ref(3);
  gnm::cpu::saxpy_reference(2.0f, x, y, ref);
  gnm::cpu::saxpy(2.0f, x, y);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(static_cast<double>(y[i]), ref[i]);
  std::vector<float> short_y(2);
  EXPECT_THROW(gnm::cpu::saxpy(1.0f, x, short_y), gnm::ShapeError);
}
