// KernelProgrammer: nlbd's nftables table behind one narrow interface (agent/nft_scripts.h says
// what it holds: the capture back end's diversion of raw VIP traffic, unicast mode's egress
// rewrite of the source MAC). Nothing in it delivers a packet, so it depends on neither the port
// rules nor the map: it is written at start and again only when somebody else removed or changed
// it. The nftables implementation is NftProgrammer (agent/nft_programmer.h); tests fake it. The
// agent drives it through the KernelWorker, never from its event loop.
//
// Every method runs on the kernel worker's thread (or, for Install at start and Remove, after
// that thread has ended or before it runs jobs).
#pragma once

#include "common/status.h"

namespace nlb::agent {

class KernelProgrammer {
 public:
  virtual ~KernelProgrammer() = default;
  // Installs the table, replacing whatever an older or crashed nlbd left behind.
  [[nodiscard]] virtual Status Install() = 0;
  // False when something else removed or altered what this programmer put into the kernel.
  virtual Result<bool> Intact() = 0;
  // Puts back everything as Install did.
  [[nodiscard]] virtual Status Repair() = 0;
  // Removes everything; errors are logged.
  virtual void Remove() = 0;
};

}  // namespace nlb::agent
