// NftProgrammer: the KernelProgrammer over nftables (agent/nft_scripts.h says what the table
// holds), applied through libnftables in-process. Element changes are one transaction each; the
// chain is rebuilt only when the rules change. Intact() compares a listing of the chains with the
// one taken after the last change nlbd made (a listing costs a cache fetch of every set, so the
// agent calls it only when the nftables monitor saw somebody else change the ruleset).
//
// Kernel worker thread only (see KernelProgrammer), but DeliveredPackets: any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/kernel_programmer.h"
#include "agent/nft_scripts.h"
#include "agent/nft_session.h"

namespace nlb::agent {

class NftProgrammer final : public KernelProgrammer {
 public:
  static Result<std::unique_ptr<NftProgrammer>> Create(DiversionOptions options);

  Status Install(const std::vector<PortRule>& rules) override;
  Status SetRules(const std::vector<PortRule>& rules) override;
  Status SetBuckets(const std::vector<FastPathRule>& fast) override;
  Status RenewLease(std::chrono::milliseconds remaining) override;
  Result<bool> Intact() override;
  Status Repair() override;
  Result<uint64_t> DeliveredPackets() override;
  void Remove() override;

  const std::string& table() const { return table_; }

 private:
  NftProgrammer(DiversionOptions options, std::unique_ptr<NftSession> session)
      : options_(std::move(options)),
        table_(NftTableName(options_)),
        session_(std::move(session)) {}
  // Takes the listing Intact() compares with.
  Status Remember();
  Result<std::string> ListChains();

  DiversionOptions options_;
  std::string table_;
  std::unique_ptr<NftSession> session_;
  std::vector<PortRule> rules_;
  std::vector<FastPathRule> fast_;  // aligned with rules_
  std::string listing_;
  // DeliveredPackets may be called from any thread: it has a session of its own.
  std::mutex counter_mutex_;
  std::unique_ptr<NftSession> counter_session_;
};

}  // namespace nlb::agent
