// BpfPlane: the BPF data plane's program and maps, loaded from an object embedded in nlbd
// (agent/bpf/nlb_tc.bpf.c for the tc hook, agent/bpf/nlb_xdp.bpf.c for XDP: the same decision
// over the same maps; docs/bpf-data-plane.md). It opens and loads the object with libbpf
// (sizing the connection table's maps and writing its timeouts from LoadOptions; BpfFlowTable
// sweeps them), memory-maps the two halves of the map (nlb_config, nlb_buckets), writes a
// MapSnapshot into the half the program is not reading and flips nlb_control's index with one
// system call, renews the lease, and reads the per-CPU counters (by reason, and per rule through
// the counter slots it keeps with each rule's name: agent/rule_counter_slots.h).
//
// nlbd drives it through agent/bpf_switch.h on its kernel worker; agent/bpf_attach.h puts the
// program on the interface.
//
// Thread: one owner (the kernel worker) calls everything; the program reads the maps at any time
// in the kernel. Publish waits, before it rewrites the half the previous Publish left, until no
// packet can still be reading it (an RCU grace period: AwaitGrace), so Publish may be called at
// any pace.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/rule_counter_slots.h"
#include "common/bpf/flow_key_layout.h"
#include "common/map_snapshot.h"
#include "common/status.h"

struct bpf_object;

namespace nlb::agent {

class BpfPlane {
 public:
  struct Counters {
    std::array<nlb_counter, NLB_REASON_COUNT> by_reason{};  // summed over CPUs
    std::array<uint64_t, NLB_PARSE_COUNT> malformed{};      // packets, by parse verdict
    // Per rule of the snapshot last published, in its order: since the rule (by name) came.
    struct Rule {
      std::string name;
      nlb_counter accepted{};
      nlb_counter dropped{};
    };
    std::vector<Rule> by_rule;
  };
  struct ProgramInfo {
    uint32_t xlated_instructions = 0;  // after the verifier's rewrites
    uint32_t jited_bytes = 0;
    uint32_t verified_instructions = 0;  // instructions the verifier walked
  };

  // The kernel connection table's sizes and timeouts (docs/connection-tracking.md, "The kernel
  // table"), fixed at load: the wiring passes cluster.connection_tracking's values. The defaults
  // are that section's defaults (asserted in tests/agent/bpf_flow_table_test.cc).
  // Which program: the tc one (TcAttachment) or the XDP one (XdpAttachment).
  enum class Hook : uint8_t { kTc, kXdp };
  struct LoadOptions {
    Hook hook = Hook::kTc;
    uint32_t flow_capacity = 1048576;  // established flows (connection_tracking.capacity)
    uint32_t half_open_capacity = 0;   // 0: flow_capacity / 8, at least 1024 and 256 per CPU
    std::chrono::seconds idle_timeout{900};
    std::chrono::seconds close_delay{10};
    // A SYN-only flow is forgotten this long after its last packet (the handshake's SYN-ACK
    // retransmissions end after about 63 s on Linux).
    std::chrono::seconds half_open_timeout{60};
  };

  // Opens and loads the embedded object (maps created, program verified; nothing attached).
  // kUnavailable with libbpf's reason when the kernel refuses (no BPF, no privilege).
  static Result<std::unique_ptr<BpfPlane>> Load(const LoadOptions& options);
  static Result<std::unique_ptr<BpfPlane>> Load() { return Load(LoadOptions{}); }
  ~BpfPlane();
  BpfPlane(const BpfPlane&) = delete;
  BpfPlane& operator=(const BpfPlane&) = delete;

  // Writes snapshot into the inactive half, then makes it the active one. On error the active
  // half is untouched. A rule new by name starts its counters at 0.
  [[nodiscard]] Status Publish(const MapSnapshot& snapshot);
  // The program serves (accepts anything) only until now + remaining on CLOCK_MONOTONIC; 0:
  // stop now.
  [[nodiscard]] Status RenewLease(std::chrono::nanoseconds remaining);
  Result<Counters> ReadCounters() const;
  Result<ProgramInfo> Info() const;

  int program_fd() const { return program_fd_; }
  Hook hook() const { return options_.hook; }
  // XDP only (-1 for tc): nlb_xdp_settings and nlb_xdp_record (common/bpf/xdp_layout.h).
  int xdp_settings_fd() const { return xdp_settings_fd_; }
  int xdp_record_fd() const { return xdp_record_fd_; }
  // XDP only: the tc program that completes delivery where the skb predates XDP (veth).
  int xdp_deliver_fd() const { return xdp_deliver_fd_; }
  // The connection table's maps (agent/bpf_flow_table.h reads and sweeps them).
  int flows_fd() const { return flows_fd_; }
  int half_open_fd() const { return half_open_fd_; }
  int flow_counters_fd() const { return flow_counters_fd_; }
  const LoadOptions& load_options() const { return options_; }
  uint32_t active_half() const { return control_.active_half; }
  // Returns once no packet can still read the inactive half (an RCU grace period after the
  // last flip; at once when there was none since). Publish calls it first; calling it right
  // after a Publish (BpfSwitch does, after the announcement) keeps it off the next switch's path.
  void AwaitGrace();
  // Grace periods that fell back to a 1 ms sleep (membarrier refused: nohz_full).
  uint64_t grace_sleeps() const { return grace_sleeps_; }

 private:
  BpfPlane() = default;
  [[nodiscard]] Status MapHalves();
  [[nodiscard]] Status WriteControl(const nlb_control& next);
  [[nodiscard]] Status ZeroRuleSlots(const std::vector<uint8_t>& slots);

  bpf_object* object_ = nullptr;
  int program_fd_ = -1;
  int control_fd_ = -1;
  int counters_fd_ = -1;
  int rule_counters_fd_ = -1;
  int flows_fd_ = -1;
  int half_open_fd_ = -1;
  int flow_counters_fd_ = -1;
  int xdp_settings_fd_ = -1;
  int xdp_record_fd_ = -1;
  int xdp_deliver_fd_ = -1;
  LoadOptions options_;
  nlb_config* configs_ = nullptr;        // NLB_HALVES entries, mmap'ed
  nlb_rule_buckets* buckets_ = nullptr;  // NLB_HALVES * NLB_MAX_RULES entries, mmap'ed
  size_t configs_size_ = 0;
  size_t buckets_size_ = 0;
  nlb_control control_{};    // what nlb_control holds (this is its only writer)
  bool grace_owed_ = false;  // a flip happened since the last grace period
  uint64_t grace_sleeps_ = 0;
  RuleCounterSlots rule_slots_;
};

}  // namespace nlb::agent
