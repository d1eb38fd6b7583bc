#include "agent/nft_programmer.h"

#include <cstdlib>

#include "agent/log.h"

namespace nlb::agent {
namespace {

std::vector<FastPathRule> Nothing(const std::vector<PortRule>& rules) {
  std::vector<FastPathRule> fast(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) fast[i].rule = rules[i];
  return fast;
}

}  // namespace

Result<std::unique_ptr<NftProgrammer>> NftProgrammer::Create(DiversionOptions options) {
  auto session = NftSession::Open();
  if (!session.ok()) return session.status();
  return std::unique_ptr<NftProgrammer>(
      new NftProgrammer(std::move(options), std::move(session.value())));
}

Result<std::string> NftProgrammer::ListChains() {
  // One command per run: libnftables 1.0.6 fails the first of two `list chain` commands given in
  // one buffer ("No such file or directory; did you mean chain 'egress'").
  const std::string script = NftListChainsScript(options_);
  std::string out;
  size_t at = 0;
  while (at < script.size()) {
    const size_t end = script.find('\n', at);
    auto listing = session_->Output(script.substr(at, end - at + 1));
    if (!listing.ok()) return listing.status();
    out += listing.value();
    at = end == std::string::npos ? script.size() : end + 1;
  }
  return out;
}

Status NftProgrammer::Remember() {
  auto listing = ListChains();
  if (!listing.ok()) return listing.status();
  listing_ = std::move(listing.value());
  return Status::Ok();
}

Status NftProgrammer::Install(const std::vector<PortRule>& rules) {
  const std::vector<FastPathRule> none = Nothing(rules);
  if (Status s = session_->Run(NftTableScript(options_, rules, none)); !s.ok()) return s;
  rules_ = rules;
  fast_ = none;
  return Remember();
}

Status NftProgrammer::SetRules(const std::vector<PortRule>& rules) {
  const std::vector<FastPathRule> none = Nothing(rules);
  if (Status s = session_->Run(NftRulesScript(options_, rules_.size(), rules, none)); !s.ok()) {
    return s;
  }
  rules_ = rules;
  fast_ = none;
  return Remember();
}

Status NftProgrammer::SetBuckets(const std::vector<FastPathRule>& fast) {
  std::vector<FastPathRule> target = AlignedToRules(rules_, fast);
  const std::string script = NftBucketsScript(options_, fast_, target);
  if (!script.empty()) {
    if (Status s = session_->Run(script); !s.ok()) return s;
  }
  fast_ = std::move(target);
  return Status::Ok();
}

Status NftProgrammer::RenewLease(std::chrono::milliseconds remaining) {
  return session_->Run(NftLeaseScript(options_, remaining));
}

Result<bool> NftProgrammer::Intact() {
  auto listing = ListChains();
  // No table or chain any more: not intact (the listing's error says which).
  if (!listing.ok()) return false;
  return listing.value() == listing_;
}

Status NftProgrammer::Repair() {
  // The chains come back exactly as Install or SetRules left them (the same rules_, and a chain
  // names its sets, not their elements), so the listing taken then still holds. Taking it again
  // would fetch every set with its elements: more than half of a repair's time under load.
  return session_->Run(NftTableScript(options_, rules_, fast_));
}

Result<uint64_t> NftProgrammer::DeliveredPackets() {
  std::lock_guard lock(counter_mutex_);
  if (counter_session_ == nullptr) {
    auto session = NftSession::Open();
    if (!session.ok()) return session.status();
    counter_session_ = std::move(session.value());
  }
  auto text = counter_session_->Output("list counter netdev " + table_ + " fast_path\n");
  if (!text.ok()) return text.status();
  const size_t at = text.value().find("packets ");
  if (at == std::string::npos) {
    return Status::Error(ErrorCode::kUnavailable, "nftables listed no packet count for " + table_);
  }
  return static_cast<uint64_t>(std::strtoull(text.value().c_str() + at + 8, nullptr, 10));
}

void NftProgrammer::Remove() {
  if (Status s = session_->Run("delete table netdev " + table_ + "\n"); !s.ok()) {
    LogWarning("kernel", s.message());
  }
}

}  // namespace nlb::agent
