// The configuration of one cluster member as plain values: the cluster-wide part (identical on
// every host, compared through ClusterDigest in heartbeats) and this host's own part.
//
// Built and validated by ParseConfig / LoadConfigFile (config/config_loader.h); every field's
// meaning, default and range is in docs/configuration.md. Once loaded, a NodeConfig is an
// immutable value: copy it to any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cluster_mac.h"  // MacMode: how frames for the VIPs reach every host
#include "common/health_check.h"
#include "common/ip_address.h"
#include "common/port_rule.h"

namespace nlb {

enum class InitialState : uint8_t { kStarted = 0, kStopped };
std::string_view InitialStateName(InitialState s);  // "started", "stopped"
// host.data_path (docs/data-path.md, docs/bpf-data-plane.md): who decides each packet.
// kXdp: the same program at the native XDP hook, chosen only explicitly (auto never picks it).
enum class DataPathMode : uint8_t { kCapture = 0, kBpf, kAuto, kXdp };
std::string_view DataPathModeName(DataPathMode m);  // "capture", "bpf", "auto", "xdp"

struct HeartbeatConfig {
  uint32_t period_ms = 1000;  // 100..10000
  uint32_t tolerance = 5;     // 2..100 missed periods before a peer counts as gone
  uint16_t port = 2504;       // UDP; 1..65535
  // HMAC key (config/cluster_key.h). Relative paths are resolved against the configuration
  // file's directory by LoadConfigFile. Not part of the cluster digest.
  std::string key_file = "/etc/nlb/cluster.key";
};

struct ControlConfig {
  bool remote = true;    // accept nlbctl over TLS from other machines
  uint16_t port = 2505;  // TCP; 1..65535
};

// Connection tracking (docs/connection-tracking.md): the descriptor table and moving buckets.
struct ConnectionTrackingConfig {
  uint32_t capacity = 1048576;      // flows; 1024..67108864
  uint32_t idle_timeout_s = 900;    // 10..604800: an open flow silent this long is forgotten
  uint32_t close_delay_s = 10;      // 1..600: kept after its FIN or RST, for the last packets
  uint32_t moving_timeout_s = 300;  // 1..86400: a moved bucket's old owner serves it at most this
  // 1..60: a half-open flow (SYN taken, no ACK yet) keeps its bucket moving at most this long
  // after its last packet (BPF back end; docs/connection-tracking.md, "The kernel table").
  uint32_t half_open_hold_s = 10;
  friend bool operator==(const ConnectionTrackingConfig&,
                         const ConnectionTrackingConfig&) = default;
};

struct ClusterConfig {
  std::string name;             // [a-z0-9-], 1..32 chars
  std::vector<IpAddress> vips;  // >= 1, unique; kept in the file's order (vips[0] is primary)
  MacMode mac_mode = MacMode::kMulticast;
  HeartbeatConfig heartbeat;
  ControlConfig control;
  ConnectionTrackingConfig connection_tracking;
  // Canonical order: rules for one VIP before rules for "all" (so the first covering rule is the
  // most specific), then by VIP, protocol (tcp, udp, both), first port. No two rules overlap.
  std::vector<PortRule> port_rules;
  // The rules' health checks (docs/configuration.md "Health checks"), at most one per rule,
  // sorted by rule name. Cluster-wide, so every host probes its own service the same way.
  std::vector<HealthCheckSpec> health_checks;
};

// The read-only HTTP listener for GET /metrics and the status page (docs/operations.md).
struct HttpListenConfig {
  bool enabled = true;
  IpAddress address = *IpAddress::Parse("127.0.0.1");  // loopback only unless configured
  uint16_t port = 9180;
  uint32_t max_connections = 16;  // more are closed on accept
};

struct HostConfig {
  uint16_t id = 0;              // 1..256, unique in the cluster
  std::string interface;        // the cluster interface, e.g. "eth0"
  IpAddress dedicated_address;  // this host's own address on that interface; not a VIP
  InitialState initial_state = InitialState::kStarted;
  // Exactly one entry per ClusterConfig::port_rules, at the same index, with every default
  // applied: rule_params[i] is this host's weight and priority for cluster.port_rules[i]. An
  // aligned vector (rather than a map by name) so the daemon never looks a rule up by name on
  // its way to a bucket map. Weight matters for multiple-host rules, priority for single-host.
  std::vector<HostRuleParams> rule_params;
  // capture: libpcap + TUN (user space decides and delivers every packet). bpf: the tc program
  // decides every packet in the kernel (and tracks the connections of moving buckets there). auto
  // (the default): bpf, else capture with the reason logged and reported. Not reloadable.
  DataPathMode data_path = DataPathMode::kAuto;
  HttpListenConfig http;
  // Where nlbd keeps the operator's state (docs/configuration.md, "Operator state"). Empty:
  // /var/lib/nlb/state-<cluster name>-<host id>. Read at start; a reload does not move it.
  std::string state_file;
};

struct NodeConfig {
  ClusterConfig cluster;
  HostConfig host;
  std::string source_path;  // the file (or source name) it was read from, for messages
  // Fields that load but are ignored (host.kernel_fast_path, since the kernel fast path was
  // retired), one located line each as ConfigErrors words them. Not part of the digest.
  std::vector<std::string> warnings;
};

}  // namespace nlb
