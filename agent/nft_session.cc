#include "agent/nft_session.h"

#include <nftables/libnftables.h>

namespace nlb::agent {

Result<std::unique_ptr<NftSession>> NftSession::Open() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return Status::Error(ErrorCode::kUnavailable, "libnftables: cannot create a context");
  }
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    nft_ctx_free(ctx);
    return Status::Error(ErrorCode::kUnavailable, "libnftables: cannot buffer its output");
  }
  return std::unique_ptr<NftSession>(new NftSession(ctx));
}

NftSession::~NftSession() { nft_ctx_free(ctx_); }

Status NftSession::Run(const std::string& script) {
  auto out = Output(script);
  return out.ok() ? Status::Ok() : out.status();
}

Result<std::string> NftSession::Output(const std::string& script) {
  const int rc = nft_run_cmd_from_buffer(ctx_, script.c_str());
  // Reading a buffer also empties it for the next command.
  std::string output = nft_ctx_get_output_buffer(ctx_);
  std::string error = nft_ctx_get_error_buffer(ctx_);
  if (rc != 0) {
    while (!error.empty() && error.back() == '\n') error.pop_back();
    if (error.size() > 2000) error = error.substr(0, 2000) + "...";
    return Status::Error(ErrorCode::kUnavailable, "nftables refused the script: " + error);
  }
  return output;
}

}  // namespace nlb::agent
