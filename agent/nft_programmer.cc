#include "agent/nft_programmer.h"

#include "agent/log.h"

namespace nlb::agent {

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

Status NftProgrammer::Install() {
  if (Status s = session_->Run(NftTableScript(options_)); !s.ok()) return s;
  auto listing = ListChains();
  if (!listing.ok()) return listing.status();
  listing_ = std::move(listing.value());
  return Status::Ok();
}

Result<bool> NftProgrammer::Intact() {
  auto listing = ListChains();
  // No table or chain any more: not intact (the listing's error says which).
  if (!listing.ok()) return false;
  return listing.value() == listing_;
}

Status NftProgrammer::Repair() {
  // The table comes back exactly as Install wrote it, so the listing taken then still holds.
  return session_->Run(NftTableScript(options_));
}

void NftProgrammer::Remove() {
  if (Status s = session_->Run("delete table netdev " + table_ + "\n"); !s.ok()) {
    LogWarning("kernel", s.message());
  }
}

}  // namespace nlb::agent
