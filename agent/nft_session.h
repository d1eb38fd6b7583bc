// NftSession: one libnftables context, through which nlbd applies nftables scripts over netlink
// in its own process (no `nft` program is spawned, none is looked up through PATH). A script is
// one transaction: the kernel applies it whole or not at all.
//
// Not thread-safe: each session belongs to one thread (the kernel worker's, agent/kernel_worker.h;
// or a tool's main thread).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

struct nft_ctx;

namespace nlb::agent {

class NftSession {
 public:
  static Result<std::unique_ptr<NftSession>> Open();
  ~NftSession();
  NftSession(const NftSession&) = delete;
  NftSession& operator=(const NftSession&) = delete;

  // Applies script. Error kUnavailable with libnftables' own message.
  [[nodiscard]] Status Run(const std::string& script);
  // The same, returning what the commands printed (for `list` commands).
  Result<std::string> Output(const std::string& script);

 private:
  explicit NftSession(nft_ctx* ctx) : ctx_(ctx) {}
  nft_ctx* ctx_;
};

}  // namespace nlb::agent
