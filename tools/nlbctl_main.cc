// nlbctl: controls nlb agents. Everything but argv handling, the terminal check and SIGINT for
// `watch` is in tools/nlbctl.cc.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/nlbctl.h"

namespace {

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted.store(true); }

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  nlb::WatchHooks hooks;
  hooks.on_watch_start = [] {
    struct sigaction action = {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
  };
  hooks.out_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  hooks.interrupted = &g_interrupted;
  return nlb::RunNlbctl(args, std::cout, std::cerr, hooks);
}
