// nlbctl's whole behaviour behind main(): parse the command line, run the command against the
// chosen agent(s) or locally, print, and return the exit status of docs/control.md. Kept out of
// main() so tests drive it with argument lists and read what it prints. Call from one thread.
#pragma once

#include <ostream>
#include <span>
#include <string_view>

namespace nlb {

// args: the arguments after the program name. Output on out, errors on err.
int RunNlbctl(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace nlb
