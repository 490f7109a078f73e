// Section 8.5's host logic on synthetic device lists: the choice by free memory and the
// peer-access matrix (CPU; runs everywhere).
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "device_choice.hpp"
#include "gnm/core/error.hpp"

using chapter08::choose_device;
using chapter08::DeviceRequirements;
using chapter08::peer_access_matrix;

namespace {

constexpr std::size_t kGiB = std::size_t{1} << 30;

gnm::cuda::DeviceInfo device(int ordinal, std::size_t free_gib, int cc_major = 9,
                             int cc_minor = 0) {
  gnm::cuda::DeviceInfo d;
  d.ordinal = ordinal;
  d.name = "GPU" + std::to_string(ordinal);
  d.cc_major = cc_major;
  d.cc_minor = cc_minor;
  d.total_memory = 80 * kGiB;
  d.free_memory = free_gib * kGiB;
  return d;
}

std::string error_of(const std::vector<gnm::cuda::DeviceInfo>& list, DeviceRequirements req = {}) {
  try {
    (void)choose_device(list, req);
  } catch (const gnm::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Ch08ChooseDevice, MostFreeMemoryWins) {
  EXPECT_EQ(choose_device({device(0, 10), device(1, 70), device(2, 30)}).ordinal, 1);
  EXPECT_EQ(choose_device({device(0, 75), device(1, 70)}).ordinal, 0);
  EXPECT_EQ(choose_device({device(0, 5)}).ordinal, 0);
}

TEST(Ch08ChooseDevice, TiesGoToTheLowestOrdinal) {
  EXPECT_EQ(choose_device({device(0, 40), device(1, 70), device(2, 70), device(3, 70)}).ordinal, 1);
  EXPECT_EQ(choose_device({device(0, 0), device(1, 0)}).ordinal, 0);
  // Ordinals need not be in order (a CUDA_VISIBLE_DEVICES list): the first listed wins a tie.
  EXPECT_EQ(choose_device({device(5, 20), device(2, 20)}).ordinal, 5);
}

TEST(Ch08ChooseDevice, RequirementsFilterBeforeTheChoice) {
  const std::vector<gnm::cuda::DeviceInfo> list = {device(0, 75, 8, 0), device(1, 60, 9, 0),
                                                   device(2, 22, 8, 9)};
  EXPECT_EQ(choose_device(list, {0, 9, 0}).ordinal, 1);
  EXPECT_EQ(choose_device(list, {0, 8, 9}).ordinal, 1);
  EXPECT_EQ(choose_device(list, {70 * kGiB, 0, 0}).ordinal, 0);
  EXPECT_EQ(choose_device(list, {0, 8, 0}).ordinal, 0);
  const auto reason = choose_device(list, {0, 9, 0}).reason;
  EXPECT_NE(reason.find("most free memory"), std::string::npos) << reason;
}

TEST(Ch08ChooseDevice, EmptyListIsAClearError) {
  EXPECT_NE(error_of({}).find("no CUDA devices to choose from"), std::string::npos) << error_of({});
}

TEST(Ch08ChooseDevice, UnmetRequirementNamesTheNumbers) {
  const std::string e = error_of({device(0, 75, 8, 0), device(1, 60, 9, 0)}, {70 * kGiB, 9, 0});
  EXPECT_NE(e.find("no CUDA device meets the requirements"), std::string::npos) << e;
  EXPECT_NE(e.find("compute capability >= 9.0"), std::string::npos) << e;
  EXPECT_NE(e.find("70"), std::string::npos) << e;            // the requirement
  EXPECT_NE(e.find("0 (GPU0), has 75"), std::string::npos) << e;  // the roomiest device
  EXPECT_NE(e.find("compute capability 8.0"), std::string::npos) << e;
}

TEST(Ch08PeerMatrix, NoDevicesAndOneDeviceAskNothing) {
  int asked = 0;
  const auto count = [&](int, int) {
    ++asked;
    return true;
  };
  const auto none = peer_access_matrix({}, count);
  EXPECT_EQ(none.note, "no devices");
  EXPECT_TRUE(none.ordinals.empty());
  const auto one = peer_access_matrix({device(0, 10)}, count);
  EXPECT_EQ(one.note, "one device: no peers");
  ASSERT_EQ(one.can_access.size(), 1u);
  EXPECT_FALSE(one.can_access[0][0]);
  EXPECT_EQ(asked, 0);
}

TEST(Ch08PeerMatrix, AsksEveryOrderedPairOfDistinctDevices) {
  std::vector<std::pair<int, int>> asked;
  // Devices 3 and 7 see each other; 5 sees nobody (say, on another PCIe root).
  const auto probe = [&](int from, int to) {
    asked.emplace_back(from, to);
    return (from == 3 && to == 7) || (from == 7 && to == 3);
  };
  const auto m = peer_access_matrix({device(3, 1), device(5, 1), device(7, 1)}, probe);
  EXPECT_EQ(asked.size(), 6u);
  EXPECT_EQ(m.ordinals, (std::vector<int>{3, 5, 7}));
  EXPECT_TRUE(m.can_access[0][2]);
  EXPECT_TRUE(m.can_access[2][0]);
  EXPECT_FALSE(m.can_access[0][1]);
  EXPECT_FALSE(m.can_access[1][2]);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_FALSE(m.can_access[i][i]);
  EXPECT_EQ(m.note, "3 devices: 2 of 6 ordered pairs can access each other");
}
