// `nlbd --check-config FILE`: everything the daemon would refuse at start-up, found without
// starting it: the configuration's errors and the cluster key file's problems. Runs on the
// calling thread; reads the files once.
#pragma once

#include <ostream>
#include <string>

namespace nlb {

// Prints "FILE: ok (cluster NAME, host ID, N rules, digest HEX)" to out and returns kExitOk,
// or prints every error to err and returns kExitConfigInvalid. A key file this user may not
// read (check-config run without root) is a warning, not an error: the daemon runs as root.
int RunConfigCheck(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace nlb
