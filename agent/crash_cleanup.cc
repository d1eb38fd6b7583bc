#include "agent/crash_cleanup.h"

#include "agent/bpf_attach.h"
#include "agent/capabilities.h"
#include "agent/cluster_mac.h"
#include "agent/command_line.h"
#include "agent/instance_lock.h"
#include "agent/nft_scripts.h"
#include "agent/nft_session.h"
#include "agent/xdp_attach.h"
#include "config/config_loader.h"

namespace nlb::agent {

int RunCrashCleanup(const std::string& config_path, std::ostream& out, std::ostream& err) {
  if (Status s = DropUnneededCapabilities(); !s.ok()) {
    err << "nlbd --cleanup: " << s.message() << "\n";
    return kExitFailed;
  }
  auto config = LoadConfigFile(config_path);
  if (!config.ok()) {
    err << "nlbd --cleanup: " << config.status().message() << "\n";
    return kExitConfigInvalid;
  }
  const NodeConfig& c = config.value();
  // Held until the end, so that an nlbd starting meanwhile waits for a clean interface.
  auto lock = InstanceLock::Acquire(c.cluster.name);
  if (!lock.ok()) {
    err << "nlbd --cleanup: " << lock.status().message()
        << "; --cleanup only undoes what a stopped one left\n";
    return kExitFailed;
  }
  int status = kExitOk;

  DiversionOptions diversion;
  diversion.cluster_name = c.cluster.name;
  diversion.interface = c.host.interface;
  const std::string table = NftTableName(diversion);
  auto nft = NftSession::Open();
  if (!nft.ok()) {
    err << "nlbd --cleanup: " << nft.status().message() << "\n";
    status = kExitFailed;
  } else if (nft.value()->Output("list chain netdev " + table + " ingress\n").ok()) {
    if (Status s = nft.value()->Run("delete table netdev " + table + "\n"); s.ok()) {
      out << "nftables table netdev " << table << ": removed\n";
    } else {
      err << "nlbd --cleanup: removing nftables table " << table << ": " << s.message() << "\n";
      status = kExitFailed;
    }
  } else {
    out << "nftables table netdev " << table << ": none\n";
  }

  // The BPF data plane's tc filter would keep deciding by maps nobody updates (its lease has run
  // out, so it drops the VIPs' traffic): whatever the configured back end, `auto` may have used it.
  bool detached = false;
  if (Status s = DetachLeftoverTcFilter(c.host.interface, &detached); !s.ok()) {
    err << "nlbd --cleanup: " << s.message() << "\n";
    status = kExitFailed;
  } else {
    out << "tc filter of " << c.host.interface << " (clsact ingress, handle 0x4e4c): "
        << (detached ? "removed" : "none") << "\n";
  }

  // The XDP variant's program (host.data_path xdp), found by its name: the only one per hook.
  bool xdp_removed = false;
  if (Status s = DetachLeftoverXdp(StateDirectory(), c.host.interface, &xdp_removed); !s.ok()) {
    err << "nlbd --cleanup: " << s.message() << "\n";
    status = kExitFailed;
  } else {
    out << "XDP program of " << c.host.interface << " (native, " << kXdpProgramName
        << "): " << (xdp_removed ? "removed" : "none") << "\n";
  }

  bool restored = false;
  if (Status s = RestoreLeftoverMac(StateDirectory(), c.host.interface, &restored); !s.ok()) {
    err << "nlbd --cleanup: " << s.message() << "\n";
    status = kExitFailed;
  } else {
    out << "MAC of " << c.host.interface << ": "
        << (restored ? "restored from " + StateDirectory() : std::string("unchanged")) << "\n";
  }
  return status;
}

}  // namespace nlb::agent
