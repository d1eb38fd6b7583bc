// KernelProgrammer: everything nlbd keeps in the kernel for its data path, behind one narrow
// interface: the diversion of raw VIP traffic, the kernel fast path's buckets per rule, and the
// kernel lease that makes the kernel stop delivering by itself when nlbd stops renewing it. The
// nftables implementation is NftProgrammer (agent/nft_programmer.h); the BPF data plane will be
// another. The agent drives it through the KernelWorker, never from its event loop.
//
// Every method runs on the kernel worker's thread (or, for Remove, after that thread has ended).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/fast_path.h"
#include "common/port_rule.h"
#include "common/status.h"

namespace nlb::agent {

class KernelProgrammer {
 public:
  virtual ~KernelProgrammer() = default;
  // Installs the diversion for these rules (canonical order) with the kernel delivering nothing
  // and no lease, replacing whatever a crashed nlbd left behind.
  [[nodiscard]] virtual Status Install(const std::vector<PortRule>& rules) = 0;
  // A reload changed the rules: from now on the kernel delivers nothing of them (until
  // SetBuckets), atomically. The lease stays.
  [[nodiscard]] virtual Status SetRules(const std::vector<PortRule>& rules) = 0;
  // The kernel delivers `fast` (aligned with the rules last installed) instead of what it
  // delivered, in one atomic step. On error the kernel keeps what it had.
  [[nodiscard]] virtual Status SetBuckets(const std::vector<FastPathRule>& fast) = 0;
  // The kernel may deliver for `remaining` from now (0: not at all), whatever else it holds.
  [[nodiscard]] virtual Status RenewLease(std::chrono::milliseconds remaining) = 0;
  // False when something else removed or altered what this programmer put into the kernel.
  virtual Result<bool> Intact() = 0;
  // Puts back everything as last set, with the lease withdrawn (RenewLease grants it again).
  [[nodiscard]] virtual Status Repair() = 0;
  // Packets the kernel delivered since Install (or since the last Repair).
  virtual Result<uint64_t> DeliveredPackets() = 0;
  // Removes everything; errors are logged.
  virtual void Remove() = 0;
};

}  // namespace nlb::agent
