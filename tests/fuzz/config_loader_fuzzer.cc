// libFuzzer entry for the configuration loader: any bytes go to ParseConfig, which must return
// (accept or refuse) without crashing, hanging or growing without bound. libFuzzer's -timeout and
// -rss_limit_mb turn a loop like yaml-cpp 0.7's LoadAll on ',' into a reported finding.
// Built by tools/fuzz.sh (clang); the corpus in corpus/config_loader is replayed by
// config_corpus_test in every build.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)nlb::ParseConfig(text, "fuzz.yaml");
  return 0;
}
