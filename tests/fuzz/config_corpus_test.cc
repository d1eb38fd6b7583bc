// The configuration loader against hostile files: every file of the fuzz corpus, and the inputs
// that made yaml-cpp 0.7's LoadAll allocate until bad_alloc, is accepted or refused with a
// located message, each in bounded time. A regression of the loop shows as a timeout or as a
// case over its time bound.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config_loader.h"

namespace nlb {
namespace {

// Generous for a busy machine under ASan; the loop this guards against never returns.
constexpr auto kBound = std::chrono::seconds(3);

struct HostileCase {
  const char* description;
  std::string text;
  const char* expected;  // a substring of the refusal
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.description; }

const HostileCase kCases[] = {
    {"a lone comma", ",", "t.yaml:1:1: YAML syntax error: unexpected ','"},
    {"a comma after a flow list", "[a],", "t.yaml:1:4: YAML syntax error: unexpected ','"},
    {"a comma after a flow map", "{a: 1},", "t.yaml:1:7: YAML syntax error: unexpected ','"},
    {"a comma after a block list", "- a\n,", "t.yaml:2:1: YAML syntax error: unexpected ','"},
    {"a comma after a document end", "cluster: {}\n...\n,",
     "t.yaml:3:1: YAML syntax error: unexpected ','"},
    {"a comma after a real document", "cluster: {}\n---\n,", "more than one YAML document"},
    {"commas only", std::string(100000, ','), "t.yaml:1:1: YAML syntax error: unexpected ','"},
    {"many documents",
     [] {
       std::string s;
       for (int i = 0; i < 50000; ++i) s += "---\na: 1\n";
       return s;
     }(),
     "more than one YAML document"},
    {"a closing bracket", "]", "YAML syntax error: illegal flow end"},
    {"a question mark", "?", "YAML syntax error"},
    {"a NUL byte", std::string("cluster:\n  name: web\0\n", 22), "t.yaml:"},
    {"deep flow nesting", std::string(100000, '[') + std::string(100000, ']'), "t.yaml:"},
    {"a self-referencing alias", "cluster: &c\n  name: *c\n", "t.yaml:"},
    {"an undefined alias", "cluster: *nothing\n", "YAML syntax error"},
    {"just over the size limit", std::string((1 << 20) + 1, '#'), "too large"},
    {"binary",
     std::string("\x7f"
                 "ELF\x02\x01\x01\0\0\0",
                 10),
     "t.yaml:"},
};

class HostileInputTest : public testing::TestWithParam<HostileCase> {};

TEST_P(HostileInputTest, RefusedWithAMessageInBoundedTime) {
  const HostileCase& c = GetParam();
  const auto start = std::chrono::steady_clock::now();
  Result<NodeConfig> config = ParseConfig(c.text, "t.yaml");
  EXPECT_LT(std::chrono::steady_clock::now() - start, kBound);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(c.expected), std::string::npos)
      << config.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, HostileInputTest, testing::ValuesIn(kCases));

TEST(ConfigCorpusTest, EveryCorpusFileReturnsInBoundedTime) {
  const std::filesystem::path dir = NLB_CONFIG_CORPUS_DIR;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const auto start = std::chrono::steady_clock::now();
    Result<NodeConfig> config = ParseConfig(text.str(), entry.path().filename().string());
    EXPECT_LT(std::chrono::steady_clock::now() - start, kBound) << entry.path();
    // A refusal names the file and a place in it; acceptance is fine too (the examples).
    if (!config.ok()) {
      EXPECT_EQ(config.status().message().rfind(entry.path().filename().string() + ":", 0), 0u)
          << config.status().message();
    }
    ++files;
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace nlb
