// RepairTable: what either back end does when the nftables monitor saw somebody else change the
// ruleset (agent/nft_monitor.h): a job on the kernel worker asks whether nlbd's table is as it
// wrote it (agent/kernel_programmer.h) and writes it again if not; back on the loop the repair
// or its failure is counted in stats and said through on_event. Until it is repaired the
// capture back end's diversion may be missing: VIP frames then also reach the local stack.
//
// Loop thread; the check itself runs on the worker.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/kernel_programmer.h"
#include "agent/kernel_worker.h"
#include "agent/map_publisher.h"

namespace nlb::agent {

// REQUIRES: table outlives the worker's jobs; stats and on_event are used only while *alive.
void RepairTable(KernelJobs& worker, KernelProgrammer& table, std::shared_ptr<bool> alive,
                 KernelStats& stats, std::function<void(const std::string&)> on_event,
                 const std::string& why);

}  // namespace nlb::agent
