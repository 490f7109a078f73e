// gnm::ReportTable: printed alignment, JSON members, cell formats, row checks.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "gnm/core/error.hpp"
#include "gnm/core/report_table.hpp"

namespace {

using namespace gnm::cells;

std::string printed(const gnm::ReportTable& t) {
  std::FILE* f = std::tmpfile();
  t.print(f);
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
  std::fclose(f);
  return s;
}

TEST(ReportTable, PrintsAlignedColumnsCountingUtf8AsOneColumn) {
  gnm::ReportTable t("t", {"name", "×"});
  t.add({str("a"), integer(12)});
  t.add({str("bcd"), num(0.5)});
  EXPECT_EQ(printed(t), "t\n  name  ×\n  ----  ---\n  a     12\n  bcd   0.5\n\n");
  EXPECT_EQ(t.rows(), 2u);
}

TEST(ReportTable, JsonMemberParsesWithTheRowsAsObjects) {
  gnm::ReportTable t("10.1 \"quoted\"", {"x", "ok", "e"});
  t.add({num(1.25), flag(false), sci(1.5e-7)});
  t.add({num(std::numeric_limits<double>::quiet_NaN()), yes_no(true), sci(0.0)});
  const auto j = nlohmann::json::parse("{" + t.json_member() + "}");
  const auto& rows = j.at("10.1 \"quoted\"").at("rows");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows.at(0).at("x").get<double>(), 1.25);
  EXPECT_FALSE(rows.at(0).at("ok").get<bool>());
  EXPECT_TRUE(rows.at(1).at("x").is_null());
  EXPECT_EQ(rows.at(1).at("ok").get<std::string>(), "yes");
}

TEST(ReportTable, CellFormats) {
  EXPECT_EQ(num(3.14159, 3).text, "3.14");
  EXPECT_EQ(num(std::numeric_limits<double>::infinity()).text, "-");
  EXPECT_EQ(sci(1.234e-7).text, "1.23e-07");
  EXPECT_EQ(sci(0.0).text, "0");
  EXPECT_EQ(flag(true).text, "yes");
  EXPECT_EQ(flag(false).text, "NO");
  EXPECT_EQ(integer(-7).json, "-7");
}

TEST(ReportTable, RowWithWrongCellCountIsAnErrorNamingTheTable) {
  gnm::ReportTable t("mine", {"a", "b"});
  try {
    t.add({integer(1)});
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("mine"), std::string::npos) << e.what();
  }
}

TEST(ReportTable, SectionAccumulatesMembers) {
  gnm::SectionResult s;
  gnm::ReportTable a("a", {"v"}), b("b", {"v"});
  a.add({integer(1)});
  b.add({integer(2)});
  s.add(a);
  s.add(b);
  const auto j = nlohmann::json::parse("{" + s.json + "}");
  EXPECT_EQ(j.at("b").at("rows").at(0).at("v").get<double>(), 2.0);
  EXPECT_TRUE(s.verified);
}

}  // namespace
