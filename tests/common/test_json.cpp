#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gnm/core/json.hpp"

TEST(Json, QuotesAndEscapes) {
  EXPECT_EQ(gnm::json_quote("plain"), "\"plain\"");
  EXPECT_EQ(gnm::json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(gnm::json_quote("x\ny\tz"), "\"x\\ny\\tz\"");
  EXPECT_EQ(gnm::json_quote(std::string_view("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(gnm::json_quote("Xeon® 日本"), "\"Xeon® 日本\"");  // UTF-8 passes through
}

TEST(Json, NumbersAndNonFinite) {
  EXPECT_EQ(gnm::json_number(1.5), "1.5");
  EXPECT_EQ(gnm::json_number(30.21234567891), "30.21234568");
  EXPECT_EQ(gnm::json_number(std::nan("")), "null");
  EXPECT_EQ(gnm::json_number(std::numeric_limits<double>::infinity()), "null");
}

TEST(Json, UtcTimestampIsIso8601) {
  const std::string t = gnm::utc_timestamp();
  ASSERT_EQ(t.size(), 20u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
  EXPECT_EQ(t.substr(0, 2), "20");
}
