#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/program_report.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch_dir() { return gnm::testing::scratch_dir("report", /*create=*/false); }

// What finish() printed, read back from a temporary FILE.
struct Finished {
  int code = -1;
  std::string printed;
};
Finished finish(const gnm::ProgramReport& r, const fs::path& json) {
  std::FILE* f = std::tmpfile();
  if (f == nullptr) throw std::runtime_error("tmpfile failed");
  Finished out;
  out.code = r.finish(json, f);
  std::rewind(f);
  char buf[512];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.printed.append(buf, n);
  std::fclose(f);
  return out;
}

// A structural check (no JSON reader in the engine): braces and brackets balance outside strings,
// every string closes, and nothing follows the top-level object but whitespace.
bool balanced_json(const std::string& s) {
  std::string stack;
  bool in_string = false;
  bool closed = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (closed && c != '\n' && c != ' ') return false;
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') stack.push_back(c);
    else if (c == '}' || c == ']') {
      if (stack.empty() || stack.back() != (c == '}' ? '{' : '[')) return false;
      stack.pop_back();
      closed = stack.empty();
    }
  }
  return closed && !in_string;
}

}  // namespace

TEST(ProgramReport, WritesTheCommonHeaderAndSectionsInTitleOrder) {
  const fs::path dir = scratch_dir();
  gnm::ProgramReport r("ch99_demo");
  r.backend("cpu (1 thread)")
      .parameter("section", std::string("all"))
      .parameter("quick", true)
      .parameter("n", std::int64_t{1} << 40)
      .parameter("threads", 3)
      .parameter("scale", 0.5)
      .parameter("label", "quo\"te")
      .figure("gflops", 12.5);
  r.add_section("2.2 second", true, "{\"rows\": [{\"a\": 1}]}");
  r.add_section("1.1 first", true, "{\"rows\": []}");
  r.add_section_members("3.3 spliced", true, "\"3.3 x\": {\"rows\": []}, \"3.3 y\": {\"rows\": []}");
  EXPECT_TRUE(r.verified());

  const fs::path json = dir / "sub" / "results.json";
  const Finished f = finish(r, json);
  EXPECT_EQ(f.code, 0);
  EXPECT_EQ(f.printed, "results written to " + json.string() + "\nVerification: PASSED\n");

  const std::string text = gnm::read_file(json);
  EXPECT_TRUE(balanced_json(text)) << text;
  for (const char* key :
       {"\"program\": \"ch99_demo\"", "\"date\": \"", "\"machine\": {\"cpu\": ", "\"cores\": ",
        "\"gpu\": \"none\"", "\"backend\": \"cpu (1 thread)\"",
        "\"parameters\": {\"section\": \"all\", \"quick\": true, \"n\": 1099511627776, "
        "\"threads\": 3, \"scale\": 0.5, \"label\": \"quo\\\"te\"}",
        "\"figures\": {\"gflops\": 12.5}", "\"3.3 x\": {\"rows\": []}", "\"verified\": true"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key << "\n" << text;
  }
  // std::map order: "1.1 first" before "2.2 second" before the spliced 3.3 members.
  const auto first = text.find("\"1.1 first\": {\"rows\": []}");
  const auto second = text.find("\"2.2 second\": {\"rows\": [{\"a\": 1}]}");
  const auto third = text.find("\"3.3 x\"");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  fs::remove_all(dir);
}

TEST(ProgramReport, EmptyReportIsValidAndVerified) {
  gnm::ProgramReport r("empty");
  EXPECT_TRUE(r.verified());
  const std::string text = r.to_json();
  EXPECT_TRUE(balanced_json(text)) << text;
  EXPECT_NE(text.find("\"parameters\": {}"), std::string::npos);
  EXPECT_NE(text.find("\"tables\": {}"), std::string::npos);
  // No path: nothing written, only the verdict.
  const Finished f = finish(r, {});
  EXPECT_EQ(f.code, 0);
  EXPECT_EQ(f.printed, "Verification: PASSED\n");
}

TEST(ProgramReport, AFailedSectionFailsTheRunAndIsNamed) {
  const fs::path dir = scratch_dir();
  gnm::ProgramReport r("ch99_demo");
  r.add_section("5.1 good", true, "{}");
  r.add_section("5.2 bad", false, "{}");
  r.add_section_members("5.3 also bad", false, "\"5.3 t\": {}");
  EXPECT_FALSE(r.verified());
  const Finished f = finish(r, dir / "r.json");
  EXPECT_EQ(f.code, 1);
  EXPECT_EQ(f.printed, "FAILED: 5.2 bad\nFAILED: 5.3 also bad\nresults written to " +
                           (dir / "r.json").string() + "\nVerification: FAILED\n");
  const std::string text = gnm::read_file(dir / "r.json");
  EXPECT_TRUE(balanced_json(text)) << text;
  EXPECT_NE(text.find("\"verified\": false"), std::string::npos);
  fs::remove_all(dir);
}

TEST(ProgramReport, NanFigureBecomesNull) {
  gnm::ProgramReport r("p");
  r.figure("ratio", std::numeric_limits<double>::quiet_NaN()).gpu("NVIDIA H100");
  const std::string text = r.to_json();
  EXPECT_NE(text.find("\"figures\": {\"ratio\": null}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"gpu\": \"NVIDIA H100\""), std::string::npos) << text;
}

TEST(ProgramReport, UnwritablePathIsAnIoErrorNamingIt) {
  const fs::path dir = scratch_dir();
  fs::create_directories(dir);
  gnm::write_file_atomic(dir / "plain_file", "x");
  gnm::ProgramReport r("p");
  // The parent "directory" is a regular file: neither it nor the results file can be created.
  const fs::path bad = dir / "plain_file" / "r.json";
  try {
    (void)finish(r, bad);
    FAIL() << "expected gnm::IoError";
  } catch (const gnm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("plain_file"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(ProgramReport, GuardedMainTurnsExceptionsIntoExitCode2) {
  EXPECT_EQ(gnm::guarded_main([] { return 0; }), 0);
  EXPECT_EQ(gnm::guarded_main([] { return 1; }), 1);
  testing::internal::CaptureStderr();
  const int code = gnm::guarded_main([]() -> int { throw gnm::Error("--n must be positive"); });
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 2);
  EXPECT_EQ(err, "error: --n must be positive\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(gnm::guarded_main([]() -> int { throw 42; }), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "error: unknown exception\n");
}

namespace {

// A stand-in for CLI::App, so the engine test needs no CLI11: parse() throws FakeParseError on
// "--bad", exit() reports it with the code CLI11 would use.
struct FakeParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct FakeApp {
  bool parsed = false;
  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      if (std::string(argv[i]) == "--bad") throw FakeParseError("not expected: --bad");
    }
    parsed = true;
  }
  int exit(const FakeParseError&) const { return 109; }
};

}  // namespace

TEST(ProgramReport, RunCliParsesThenRunsTheBody) {
  char prog[] = "prog";
  char bad[] = "--bad";
  char ok[] = "--ok";
  char* good_argv[] = {prog, ok};
  char* bad_argv[] = {prog, bad};
  FakeApp app;
  int runs = 0;
  EXPECT_EQ(gnm::run_cli<FakeParseError>(app, 2, good_argv, [&] {
    ++runs;
    return 0;
  }), 0);
  EXPECT_TRUE(app.parsed);
  EXPECT_EQ(runs, 1);
  FakeApp app2;
  EXPECT_EQ(gnm::run_cli<FakeParseError>(app2, 2, bad_argv, [&] {
    ++runs;
    return 0;
  }), 109);
  EXPECT_EQ(runs, 1);  // the body never ran
  testing::internal::CaptureStderr();
  EXPECT_EQ(gnm::run_cli<FakeParseError>(app, 2, good_argv,
                                         []() -> int { throw std::runtime_error("boom"); }),
            2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "error: boom\n");
}

TEST(ProgramReport, RequireChoiceAcceptsAChoiceAndNamesAllOfThemOtherwise) {
  EXPECT_NO_THROW(gnm::require_choice("--section", "10.2", {"all", "10.1", "10.2"}));
  try {
    gnm::require_choice("--section", "10.7", {"all", "10.1", "10.2"});
    FAIL() << "expected gnm::Error";
  } catch (const gnm::Error& e) {
    EXPECT_STREQ(e.what(), "--section must be one of all, 10.1, 10.2; got '10.7'");
  }
}
