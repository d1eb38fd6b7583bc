// CrashCleanup: `nlbd --cleanup --config FILE`, the unit's ExecStopPost. Undoes what an nlbd of
// FILE leaves in the kernel when it dies without running its destructors (a crash, SIGKILL, the
// watchdog's abort):
//   the nftables table nlb_<cluster>_<interface>  (it would keep dropping the VIPs' traffic);
//   the BPF data plane's tc filter at nlbd's handle on the interface's clsact ingress (same);
//   the unicast mode's cluster MAC on the interface (the real MAC is put back from the state
//     file in StateDirectory(), then the file goes).
// The rest goes with the process by itself: the TUN device and its VIP addresses (not
// persistent), the multicast memberships (held by its sockets), the instance lock and control
// sockets' names. arp_ignore/arp_announce on the cluster interface stay as the agent set them
// (their earlier values died with it); they only stop the kernel from answering ARP for the VIPs.
//
// Refused while an nlbd of that cluster runs in this network namespace (its instance lock is
// held): after a clean stop there is nothing to undo, and each step is a no-op. Main thread.
#pragma once

#include <ostream>
#include <string>

namespace nlb::agent {

// Exit status: 0 nothing left or all undone, 1 a step failed or the agent runs, 2 the
// configuration does not load. One line per step on out, errors on err.
int RunCrashCleanup(const std::string& config_path, std::ostream& out, std::ostream& err);

}  // namespace nlb::agent
