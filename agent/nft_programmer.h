// NftProgrammer: the KernelProgrammer over nftables (agent/nft_scripts.h says what the table
// holds), applied through libnftables in-process. Intact() compares a listing of the chains with
// the one taken after Install (the agent calls it only when the nftables monitor saw somebody
// else change the ruleset).
//
// Kernel worker thread only (see KernelProgrammer).
#pragma once

#include <memory>
#include <string>

#include "agent/kernel_programmer.h"
#include "agent/nft_scripts.h"
#include "agent/nft_session.h"

namespace nlb::agent {

class NftProgrammer final : public KernelProgrammer {
 public:
  static Result<std::unique_ptr<NftProgrammer>> Create(DiversionOptions options);

  Status Install() override;
  Result<bool> Intact() override;
  Status Repair() override;
  void Remove() override;

  const std::string& table() const { return table_; }

 private:
  NftProgrammer(DiversionOptions options, std::unique_ptr<NftSession> session)
      : options_(std::move(options)),
        table_(NftTableName(options_)),
        session_(std::move(session)) {}
  Result<std::string> ListChains();

  DiversionOptions options_;
  std::string table_;
  std::unique_ptr<NftSession> session_;
  std::string listing_;  // taken after Install: what Intact() compares with
};

}  // namespace nlb::agent
