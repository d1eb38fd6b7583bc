// KernelSetting: one /proc/sys value the agent changes for as long as it runs (rp_filter on the
// TUN device, arp_ignore/arp_announce on the cluster interface), put back on Restore() or
// destruction. Values are per network namespace, as the lab needs. Control thread only; set-up
// and tear-down time only.
//
// After a crash the changed value stays; that is safe by design: every value the agent sets is
// one a host of the cluster must have anyway while it runs.
#pragma once

#include <string>

#include "common/status.h"

namespace nlb::agent {

class KernelSetting {
 public:
  // Writes value to /proc/sys/<key> (key like "net/ipv4/conf/eth0/arp_ignore") and remembers
  // what was there. Fails naming the key when it cannot be read or written.
  static Result<KernelSetting> Apply(const std::string& key, const std::string& value);
  // Reads /proc/sys/<key>, trimmed.
  static Result<std::string> Read(const std::string& key);

  KernelSetting(KernelSetting&& other) noexcept;
  KernelSetting& operator=(KernelSetting&&) = delete;
  KernelSetting(const KernelSetting&) = delete;
  ~KernelSetting();

  // Puts the old value back (once). A failure is logged, not returned: tear-down goes on.
  void Restore();

 private:
  KernelSetting(std::string key, std::string old_value)
      : key_(std::move(key)), old_value_(std::move(old_value)) {}
  std::string key_;
  std::string old_value_;
  bool active_ = true;
};

}  // namespace nlb::agent
