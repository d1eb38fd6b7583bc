// nlb-datapath-harness: the libpcap data path alone on one interface, with a hand-made map, to
// prove it in network namespaces before convergence exists. Not installed.
//
//   nlb-datapath-harness --interface eth0 --vip 198.18.0.100 [--vip ...] --host-id 1 --hosts 3
//                        [--mode multicast|unicast|igmp] [--affinity none|single|network]
//                        [--tun nlb0] [--cluster NAME]
//
// The map has one multiple-host rule for every port and protocol of every VIP; bucket b belongs
// to host (b % hosts) + 1 until the real assignment lands. Traffic no rule covers (ICMP) goes to
// host 1. SIGUSR1 prints the counters; SIGTERM or SIGINT prints them, undoes everything, exits.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "agent/cluster_mac.h"
#include "agent/data_path.h"
#include "agent/log.h"
#include "agent/neighbour_responder.h"
#include "agent/nft_programmer.h"
#include "agent/packet_capture.h"
#include "agent/tun_device.h"
#include "common/cluster_mac.h"
#include "common/flow_hash.h"
#include "common/map_snapshot.h"

namespace nlb::agent {
namespace {

struct Arguments {
  std::string interface;
  std::vector<IpAddress> vips;
  uint16_t host_id = 0;
  uint16_t hosts = 0;
  MacMode mode = MacMode::kMulticast;
  Affinity affinity = Affinity::kNone;
  std::string tun = "nlb0";
  std::string cluster = "harness";
};

int Usage(const std::string& problem) {
  std::fprintf(stderr,
               "nlb-datapath-harness: %s\nusage: nlb-datapath-harness --interface IF --vip IP "
               "[--vip IP...] --host-id I --hosts N [--mode multicast|unicast|igmp] "
               "[--affinity none|single|network] [--tun NAME] [--cluster NAME]\n",
               problem.c_str());
  return 2;
}

bool Parse(int argc, char** argv, Arguments* a, std::string* problem) {
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      *problem = flag + " needs a value";
      return false;
    }
    const std::string value = argv[i + 1];
    if (flag == "--interface") {
      a->interface = value;
    } else if (flag == "--vip") {
      const auto vip = IpAddress::Parse(value);
      if (!vip) {
        *problem = "--vip " + value + " is not an IP address";
        return false;
      }
      a->vips.push_back(*vip);
    } else if (flag == "--host-id") {
      a->host_id = static_cast<uint16_t>(std::atoi(value.c_str()));
    } else if (flag == "--hosts") {
      a->hosts = static_cast<uint16_t>(std::atoi(value.c_str()));
    } else if (flag == "--mode") {
      if (value == "multicast")
        a->mode = MacMode::kMulticast;
      else if (value == "unicast")
        a->mode = MacMode::kUnicast;
      else if (value == "igmp")
        a->mode = MacMode::kIgmp;
      else {
        *problem = "--mode " + value + " is not multicast, unicast or igmp";
        return false;
      }
    } else if (flag == "--affinity") {
      if (value == "none")
        a->affinity = Affinity::kNone;
      else if (value == "single")
        a->affinity = Affinity::kSingle;
      else if (value == "network")
        a->affinity = Affinity::kNetwork;
      else {
        *problem = "--affinity " + value + " is not none, single or network";
        return false;
      }
    } else if (flag == "--tun") {
      a->tun = value;
    } else if (flag == "--cluster") {
      a->cluster = value;
    } else {
      *problem = "unknown argument " + flag;
      return false;
    }
  }
  if (a->interface.empty() || a->vips.empty())
    *problem = "--interface and --vip are required";
  else if (a->hosts < 1 || a->host_id < 1 || a->host_id > a->hosts)
    *problem = "--host-id must be in 1..--hosts";
  return problem->empty();
}

std::shared_ptr<const MapSnapshot> HandMadeMap(const Arguments& a) {
  auto map = std::make_shared<MapSnapshot>();
  map->local_host_id = a.host_id;
  map->default_host_id = 1;
  map->serving = true;
  map->vips = a.vips;
  map->generation = 1;
  RuleMap rule;
  rule.rule.name = "harness";
  rule.rule.protocol = Protocol::kBoth;
  rule.rule.affinity = a.affinity;
  rule.bucket_owner.resize(kBucketCount);
  for (uint32_t b = 0; b < kBucketCount; ++b) {
    rule.bucket_owner[b] = static_cast<uint16_t>(b % a.hosts + 1);
  }
  map->rules.push_back(std::move(rule));
  return map;
}

void PrintCounters(const DataPath& path, const NeighbourResponder& responder) {
  std::printf("counters:\n");
  for (size_t r = 0; r < static_cast<size_t>(DecisionReason::kCount); ++r) {
    const auto reason = static_cast<DecisionReason>(r);
    const uint64_t packets = path.decisions().ReadPackets(reason);
    if (packets != 0) {
      std::printf("  %-22s %llu\n", std::string(DecisionReasonName(reason)).c_str(),
                  static_cast<unsigned long long>(packets));
    }
  }
  const DataPathCounters& c = path.counters();
  const auto print = [](const char* name, uint64_t value) {
    std::printf("  %-22s %llu\n", name, static_cast<unsigned long long>(value));
  };
  print("delivered", c.delivered.load());
  print("delivery_errors", c.delivery_errors.load());
  print("truncated", c.truncated.load());
  print("capture_dropped", c.capture_dropped.load());
  print("capture_errors", c.capture_errors.load());
  print("neighbour_answers", responder.answers());
  print("announcements", responder.announcements());
  print("neighbour_errors", responder.send_errors());
  std::fflush(stdout);
}

int Run(const Arguments& a) {
  const auto cluster = ComputeClusterMac(a.vips, a.mode);
  if (!cluster) return Usage("no usable VIP");
  LogInfo("harness",
          "cluster MAC " + FormatMac(cluster->mac) + " (" + std::string(MacModeName(a.mode)) + ")");

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ClusterMacOptions mac_options;
  mac_options.interface = a.interface;
  mac_options.cluster = *cluster;
  mac_options.host_id = a.host_id;
  mac_options.vips = a.vips;
  auto binding = ClusterMacBinding::Bind(mac_options);
  if (!binding.ok()) return LogError("harness", binding.status().message()), 1;

  // The diversion goes in before the VIPs exist locally, so the kernel never takes one itself.
  DiversionOptions diversion_options;
  diversion_options.cluster_name = a.cluster;
  diversion_options.interface = a.interface;
  diversion_options.vips = a.vips;
  if (a.mode == MacMode::kUnicast) {
    diversion_options.cluster_mac = cluster->mac;
    diversion_options.masked_source = MaskedSourceMac(*cluster, a.host_id);
  }
  auto diversion = NftProgrammer::Create(diversion_options);
  if (!diversion.ok()) return LogError("harness", diversion.status().message()), 1;
  if (Status s = diversion.value()->Install(); !s.ok()) return LogError("harness", s.message()), 1;

  auto capture = PacketCapture::Open({a.interface, a.vips});
  if (!capture.ok()) return LogError("harness", capture.status().message()), 1;

  auto tun = TunDevice::Create({a.tun, a.interface, a.vips});
  if (!tun.ok()) return LogError("harness", tun.status().message()), 1;

  const NeighbourIdentity identity{binding.value()->frame_source(), cluster->mac};
  auto responder = NeighbourResponder::Open(binding.value()->interface_index(), identity, a.vips);
  if (!responder.ok()) return LogError("harness", responder.status().message()), 1;

  SnapshotHolder snapshots;
  snapshots.Publish(HandMadeMap(a));
  snapshots.SetLease(std::chrono::steady_clock::time_point::max());  // a hand-made map holds
  DataPath path(*capture.value(), *tun.value(), *responder.value(), snapshots);
  if (Status s = path.Start(); !s.ok()) return LogError("harness", s.message()), 1;
  responder.value()->Announce();
  LogInfo("harness", "serving as host " + std::to_string(a.host_id) + " of " +
                         std::to_string(a.hosts) + " on " + a.interface + " (table " +
                         diversion.value()->table() + ", TUN " + tun.value()->name() + ")");
  std::printf("ready\n");
  std::fflush(stdout);

  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal == SIGUSR1) {
      PrintCounters(path, *responder.value());
      continue;
    }
    break;
  }
  path.Stop();
  PrintCounters(path, *responder.value());
  diversion.value()->Remove();
  // The rest is undone by destruction, in reverse order of set-up.
  return 0;
}

}  // namespace
}  // namespace nlb::agent

int main(int argc, char** argv) {
  nlb::agent::Arguments arguments;
  std::string problem;
  if (!nlb::agent::Parse(argc, argv, &arguments, &problem)) return nlb::agent::Usage(problem);
  return nlb::agent::Run(arguments);
}
