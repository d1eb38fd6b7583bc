// nlbctl's whole behaviour behind main(): parse the command line, run the command against the
// chosen agent(s) or locally, print, and return the exit status of docs/control.md. Kept out of
// main() so tests drive it with argument lists and read what it prints. Call from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <ostream>
#include <span>
#include <string_view>

namespace nlb {

// What `watch` needs from the process around it.
struct WatchHooks {
  bool out_is_terminal = false;  // clear the screen before each refresh
  // Set (by a SIGINT handler) to end watch with status 0; nullptr: only max_refreshes ends it.
  const std::atomic<bool>* interrupted = nullptr;
  int max_refreshes = 0;  // tests: stop after this many views (0: no limit)
  // Called once when watch starts (main installs its SIGINT handler there, so that Ctrl-C
  // still ends every other command the default way).
  std::function<void()> on_watch_start;
};

// args: the arguments after the program name. Output on out, errors on err.
int RunNlbctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);
int RunNlbctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
              const WatchHooks& hooks);

}  // namespace nlb
