// DropUnneededCapabilities in a forked child (so the test process keeps its own): afterwards the
// process holds CAP_NET_ADMIN and CAP_NET_RAW only, in every set including the bounding set, and
// a thread started after the drop has the same (the data path thread starts after it). Needs
// root for the "before" state to hold more; skipped otherwise.
#include "agent/capabilities.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace nlb::agent {
namespace {

constexpr const char* kNetworkOnly = "0000000000003000";  // bits 12 and 13
constexpr const char* kNone = "0000000000000000";

std::string Field(const std::string& status_file, const std::string& name) {
  std::ifstream in(status_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0)
      return line.substr(line.find_first_not_of(" \t", name.size() + 1));
  }
  return "";
}

// Exit code of the child: 0 when every set of status_file is as wanted, else which one is not.
int CheckSets(const std::string& status_file) {
  if (Field(status_file, "CapEff") != kNetworkOnly) return 10;
  if (Field(status_file, "CapPrm") != kNetworkOnly) return 11;
  if (Field(status_file, "CapBnd") != kNetworkOnly) return 12;
  if (Field(status_file, "CapInh") != kNone) return 13;
  if (Field(status_file, "CapAmb") != kNone) return 14;
  return 0;
}

int InChild(int (*body)()) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(Capabilities, NamesWhatTheAgentKeeps) {
  EXPECT_EQ(AgentCapabilities(), (std::vector<std::string>{"cap_net_admin", "cap_net_raw"}));
  EXPECT_EQ(AgentCapabilities(/*bpf=*/true),
            (std::vector<std::string>{"cap_net_admin", "cap_net_raw", "cap_bpf", "cap_perfmon"}));
}

TEST(Capabilities, RootKeepsOnlyTheNetworkCapabilities) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to start with more than the two";
  ASSERT_NE(Field("/proc/self/status", "CapEff"), kNetworkOnly) << "nothing to drop here";
  EXPECT_EQ(InChild([] {
              if (!DropUnneededCapabilities().ok()) return 1;
              if (CurrentCapabilitiesText() != "cap_net_admin,cap_net_raw=ep") return 2;
              return CheckSets("/proc/self/status");
            }),
            0);
}

TEST(Capabilities, AThreadStartedAfterTheDropHasNoMore) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to start with more than the two";
  EXPECT_EQ(InChild([] {
              if (!DropUnneededCapabilities().ok()) return 1;
              int result = 100;
              std::thread([&result] { result = CheckSets("/proc/thread-self/status"); }).join();
              return result;
            }),
            0);
}

TEST(Capabilities, DroppingTwiceIsHarmless) {
  EXPECT_EQ(InChild([] {
              if (!DropUnneededCapabilities().ok()) return 1;
              return DropUnneededCapabilities().ok() ? 0 : 2;
            }),
            0);
}

}  // namespace
}  // namespace nlb::agent
