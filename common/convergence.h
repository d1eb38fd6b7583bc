// Convergence: the membership and convergence state machine of one agent (docs/protocol.md).
//
// Pure: no sockets, no clock, no randomness. The daemon feeds it every datagram received on the
// heartbeat port (OnDatagram), and keeps one timer armed at NextWakeup() (re-arm it after every
// call: a datagram can bring the wakeup forward), calling OnTick when it fires. OnTick returns
// the heartbeat to broadcast, if one is due, and says when a new map was agreed. Time is whatever
// monotonic TimePoint the caller passes (steady_clock in the daemon, a simulated clock in tests);
// it must never go backwards.
//
// Rules in short: a sender not heard for `tolerance` periods, directly or through a live member
// that still hears it, has left. Liveness is judged by arrival time: the daemon passes each
// datagram's arrival stamp as `now` and hands over every queued datagram before it ticks; any
// authenticated datagram of a peer (heartbeat or moving report part) refreshes it; a tick later
// than NextWakeup() moves every peer's deadline by that lateness, so that a stall of this host's
// loop is not taken for its peers' silence (docs/protocol.md, "Liveness and stalls"); an unknown
// authenticated sender has joined; a new boot id, role, weight or rules digest is a change. On a
// change the host heartbeats twice per period; once every member has reported the same view digest
// for a full period, each host computes the map from that view alone. Until then the previous map
// keeps being served.
//
// Not thread-safe: one instance per agent, driven from the daemon's event loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/cluster_view.h"
#include "common/converged_map.h"
#include "common/heartbeat.h"
#include "common/moving_buckets.h"
#include "common/moving_report.h"
#include "common/replay_guard.h"
#include "common/status.h"

namespace nlb {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// How long hosts with differing configuration digests are tolerated before the minority is kept
// out: long enough for `nlbctl reload --cluster` to switch every host, short enough that a host
// with other rules is named within two periods.
inline constexpr int kDigestSwitchGracePeriods = 2;

struct ConvergenceConfig {
  std::string cluster_name;
  std::vector<uint8_t> key;  // the cluster's HMAC key
  uint16_t local_host_id = 0;
  IpAddress dedicated_address;
  uint64_t boot_id = 0;  // random per process start
  std::chrono::milliseconds period{1000};
  uint32_t tolerance = 5;  // periods of silence before a host has left
  Digest config_digest{};
  std::vector<FilteringMode> rule_modes;    // canonical rule order
  std::vector<std::string> rule_names;      // aligned with rule_modes: seeds, and reload matching
  std::vector<HostRuleParams> rule_params;  // this host's, aligned with rule_modes
  // Aligned with rule_modes: what each rule hashes its clients by. Missing entries are the
  // default key (affinity single). Only a change of it matters (see SetRules).
  std::vector<ClientKey> rule_keys;
  // Aligned with rule_modes (or empty: no rule checked): what this host's health checks make it
  // do with each rule, announced in its heartbeats. Not part of the view: the weights it leads to
  // are.
  std::vector<RuleHealth> rule_health;
  HostRole role = HostRole::kActive;
  // Connection tracking: how long at most a bucket stays moving after it changed owner
  // (docs/connection-tracking.md).
  std::chrono::milliseconds moving_timeout{300000};
  // Computes the map of an agreed view: ComputeConvergedMap when empty (the daemon). Every host
  // computes the same map from the same view, so a simulation of many hosts in one process shares
  // one memo of it between them (tests/support/sim_cluster.h) rather than assigning 16384 buckets
  // over 256 hosts once per host.
  std::function<ConvergedMap(std::span<const ViewMember>, std::span<const FilteringMode>,
                             std::span<const std::string>)>
      compute_map;
};

// Every datagram that did not change anything is counted under exactly one reason.
struct HeartbeatCounters {
  uint64_t sent = 0;
  uint64_t accepted = 0;
  uint64_t malformed = 0;  // unparsable, or inconsistent with the cluster's rule count
  uint64_t bad_hmac = 0;
  uint64_t wrong_cluster = 0;
  uint64_t replayed = 0;          // old sequence, or a boot superseded by a restart
  uint64_t looped_back = 0;       // our own broadcast coming back
  uint64_t duplicate_id = 0;      // another boot claims our own host id
  uint64_t reports_sent = 0;      // moving report datagrams
  uint64_t reports_accepted = 0;  // moving report parts from members
  uint64_t reports_dropped = 0;   // unparsable, unauthentic, foreign, or from a non-member
  // Ticks that ran later than NextWakeup() by more than kLateTickSlack periods, and the worst
  // lateness seen: peers' deadlines were moved by it.
  uint64_t late_ticks = 0;
  Duration max_tick_lateness{};
};

// Timer slack below this share of a period (1/20) is not lateness: the daemon's timer fires a
// little after its deadline on every tick, and those slivers must not add up into later expiries.
inline constexpr int kLateTickSlackDivisor = 20;

struct MemberReport {
  uint16_t host_id = 0;
  IpAddress dedicated_address;
  uint64_t boot_id = 0;
  HostState state = HostState::kConverging;
  std::vector<HostRuleParams> rule_params;  // in the view, canonical rule order
  // As last announced (this host's: as last set), canonical rule order; empty: none checked.
  std::vector<RuleHealth> rule_health;
};

struct KeptOutHost {
  uint16_t host_id = 0;
  IpAddress dedicated_address;
  uint64_t boot_id = 0;
  KeptOutReason reason = KeptOutReason::kMismatchedRules;
};

// What `nlbctl query` shows.
struct ConvergenceReport {
  bool converged = false;  // holds a map agreed by every member of its current view
  bool serving = false;    // holds a map and is not kept out
  std::optional<KeptOutReason> local_kept_out;  // set when this host itself is kept out
  std::vector<MemberReport> members;            // current view, by host id
  std::vector<KeptOutHost> kept_out;
  uint64_t generation = 0;   // of the map in use; 0 before the first agreement
  std::string last_cause;    // first change of the last convergence, e.g. "host 3 left"
  Duration last_duration{};  // from that change to agreement
  size_t peers_heard = 0;    // senders heard within the tolerance, members or not
  Duration alone_for{};      // how long no peer has been heard (since start or the last one left)
  HeartbeatCounters counters;
};

class Convergence {
 public:
  struct Actions {
    std::optional<std::vector<uint8_t>> heartbeat;  // broadcast it now
    bool map_changed = false;                       // ConvergedMap() is new: publish a snapshot
    // Moving reports to broadcast with the heartbeat (before it), when this host holds more
    // moving buckets than the heartbeat's list takes.
    std::vector<std::vector<uint8_t>> moving_reports;
    bool moving_changed = false;  // MovingSnapshot() changed: publish a snapshot
  };

  // REQUIRES: Validate(config).ok()
  Convergence(ConvergenceConfig config, TimePoint now);
  // Says what is wrong with a configuration: host id range, empty key or name, period, etc.
  [[nodiscard]] static Status Validate(const ConvergenceConfig& config);

  // Authenticates and applies one datagram that arrived at `arrival` (the kernel's stamp, or the
  // time it was read). Arrival times may lag the latest tick's time a little (a batch read after
  // it); a sender is never taken as heard earlier than it already was. A non-ok Status says why
  // it was dropped (already counted); never throws, whatever the bytes.
  [[nodiscard]] Status OnDatagram(std::span<const uint8_t> bytes, TimePoint arrival);
  // Expires silent hosts, adopts an agreed view, and emits the heartbeat when it is due. A call
  // later than NextWakeup() is late: every peer's deadline moves by the lateness first.
  Actions OnTick(TimePoint now);
  // The latest time by which OnTick must be called again. Calling it earlier is harmless.
  TimePoint NextWakeup() const;

  // Operator changes (nlbctl start/stop/drainstop/suspend, weight changes, reload). Each is a
  // change that starts convergence.
  void SetRole(HostRole role, TimePoint now);
  // This host stalled past its lease (docs/protocol.md, "The lease") and a peer disagreed with
  // its view since (AgreedSince): the peers may have dropped it and given its buckets to others.
  // Its own view never changed, so by its old map it would serve as soon as they re-admit it, a
  // period before they adopt theirs. So it drops the map and takes the next one as a joining
  // host does: every owned bucket pending until each member has reported under that map
  // (MovingBuckets), and the connections the peers took meanwhile stay theirs.
  void ForgetMap(TimePoint now);
  // REQUIRES: params.size() == config rule_modes.size()
  void SetRuleParams(std::vector<HostRuleParams> params, TimePoint now);
  // What the health checks make this host do with each rule (as ConvergenceConfig::rule_health).
  // Not a change of the view: a change is announced at once (SendSoon), nothing else.
  void SetRuleHealth(std::vector<RuleHealth> health, TimePoint now);
  // A reload. When it renumbers the rules, the map in use and the moving buckets follow each rule
  // by name at once (RenumberMap, MovingBuckets::RenumberRules), so that CurrentMap(), the moving
  // snapshots and the rule lists given here always share one numbering; moving lists from peers
  // still on the previous rules are translated to it. When it changes the client key (affinity)
  // of a kept multiple-host rule, every bucket of that rule moves at once
  // (MovingBuckets::OnRulesRekeyed) and the map in use takes a new generation, so that the data
  // path rebuckets its connections before their counts are read (docs/connection-tracking.md,
  // "Affinity changes"). rule_keys: as ConvergenceConfig::rule_keys.
  // REQUIRES: rule_modes.size() == rule_names.size() == rule_params.size()
  void SetRules(const Digest& config_digest, std::vector<FilteringMode> rule_modes,
                std::vector<std::string> rule_names, std::vector<HostRuleParams> rule_params,
                TimePoint now, std::vector<ClientKey> rule_keys = {});

  // The map in use (the last agreed one), or nullptr before the first agreement. Valid until the
  // next call of a non-const method.
  const ConvergedMap* CurrentMap() const { return map_ ? &*map_ : nullptr; }
  bool converged() const;
  // True when converged() and every member has reported this host's view, with a map of that
  // view, in every heartbeat heard since `t` or earlier: then no peer dropped this host (or
  // re-admitted it, if the heartbeats that showed the drop were lost) since `t`.
  bool AgreedSince(TimePoint t) const {
    return converged() && *all_agree_since_ <= t && unsettled_at_ < t;
  }
  // True when this host should accept packets: it holds a map and is not kept out.
  bool serving() const { return map_.has_value() && !local_kept_out_.has_value(); }
  const Digest& view_digest() const { return view_digest_; }
  // Set when this host itself is kept out of the cluster, with the reason.
  const std::optional<KeptOutReason>& local_kept_out() const { return local_kept_out_; }
  ConvergenceReport Report() const;

  // Connection tracking. The local table's buckets holding connections, per rule, read after the
  // data path had applied every snapshot up to map generation applied_generation. Call it before
  // each OnTick.
  void SetLocalConnections(std::span<const BucketSet> per_rule, uint64_t applied_generation);
  // Per rule of the current map: the moving bitset for MapSnapshot::rules[i].moving.
  const std::vector<std::shared_ptr<const BucketSet>>& MovingSnapshot() {
    return moving_.Snapshot();
  }
  // Per rule: gained buckets that take no new connection yet (MapSnapshot::rules[i].pending).
  const std::vector<std::shared_ptr<const BucketSet>>& PendingSnapshot() {
    return moving_.PendingSnapshot();
  }
  // Buckets this host still serves after they moved away (per rule), and buckets it owns whose
  // connections other hosts still serve.
  uint32_t HoldingBuckets(size_t rule) const { return moving_.HoldingCount(rule); }
  uint32_t ContestedBuckets(size_t rule) const { return moving_.ContestedCount(rule); }
  bool HoldsMovingBuckets() const;
  const HeartbeatCounters& counters() const { return counters_; }

 private:
  // One sender, identified by (host id, boot id): two boots of one id are two candidates.
  struct Peer {
    Heartbeat last;
    TimePoint deadline;   // silent from then on: last arrival + tolerance, plus lateness since
    bool silent = false;  // not heard directly for tolerance periods
    // The newest moving report part that refreshed liveness (sequence, part): a part refreshes
    // once, and only while it is newer than the last heartbeat, so replays keep nobody alive.
    std::pair<uint64_t, uint32_t> report_refresh{0, 0};
  };
  using PeerKey = std::pair<uint16_t, uint64_t>;
  // A peer's moving buckets per rule, in this host's rule numbering (see previous_digest_).
  std::vector<BucketSet> InOurNumbering(const Digest& sender_digest,
                                        std::vector<BucketSet> per_rule) const;

  // The peer's report is under the map of its view and under this host's rules.
  bool CurrentUnderOurRules(const Heartbeat& last) const;
  bool IsMember(uint16_t host_id, uint64_t boot_id) const;
  Status OnMovingReport(std::span<const uint8_t> bytes, TimePoint arrival);
  void Hear(Peer& peer, TimePoint arrival);
  void NoteLateness(TimePoint now);
  // Did the last heartbeat change anything the view is made of (not just liveness)?
  static bool Material(const Heartbeat& before, const Heartbeat& after);
  void Expire(TimePoint now);
  void Recompute(TimePoint now);
  void RecountAgreement(TimePoint now);
  void NoteChange(std::string cause, TimePoint now);
  void SendSoon(TimePoint now);
  Heartbeat LocalHeartbeat(TimePoint now);
  Duration Tolerance() const { return config_.period * config_.tolerance; }

  ConvergenceConfig config_;
  ReplayGuard replay_;
  HeartbeatCounters counters_;
  std::map<PeerKey, Peer> peers_;
  uint64_t sequence_ = 0;
  TimePoint now_;  // the latest time passed in: expiries before it are not wakeups
  std::optional<TimePoint> last_tick_;    // lateness is measured from here at the earliest
  std::optional<TimePoint> alone_since_;  // no peer heard since then

  // Derived by Recompute from the peers and the local configuration.
  std::vector<ViewMember> view_;  // sorted by host id, includes this host unless kept out
  Digest view_digest_{};
  std::vector<KeptOutHost> kept_out_;
  std::optional<KeptOutReason> local_kept_out_;
  size_t indirect_peers_ = 0;  // peers kept alive only by another member hearing them
  // No peer expires before this; it may be early (a peer was heard since), never late, so
  // NextWakeup stays O(1) and a early wakeup merely rescans.
  TimePoint next_expiry_ = TimePoint::max();

  // Material changes heard within 1/50 of a period are applied together: a 256-host start
  // would otherwise recompute the view once per arriving host.
  std::optional<TimePoint> recompute_at_;
  // The (host id, config digest) pairs last seen while they were mixed, and since when.
  std::vector<std::pair<uint16_t, Digest>> mixed_digests_;
  TimePoint mixed_since_{};

  // Agreement: how many other members report view_digest_, and since when all of them do.
  size_t agreeing_ = 0;
  std::optional<TimePoint> all_agree_since_;
  // The latest arrival of a member's heartbeat showing another view or a map not of its view.
  TimePoint unsettled_at_{};

  // Moving reports being assembled, per sender.
  struct PendingReport {
    MovingReport report;
    std::vector<bool> received;
    size_t missing = 0;
  };
  std::map<PeerKey, PendingReport> pending_reports_;
  MovingBuckets moving_;

  bool ticked_ = false;  // OnTick ran at least once
  std::optional<ConvergedMap> map_;
  // The rules before the last SetRules: a peer whose heartbeats still carry that digest reports
  // its moving buckets under them; rule n is previous rule previous_of_new_[n].
  Digest previous_digest_{};
  std::vector<size_t> previous_of_new_;
  uint64_t generation_ = 0;
  std::optional<TimePoint> change_started_;  // first change not yet agreed on
  std::string pending_cause_;
  std::string last_cause_;
  Duration last_duration_{};

  TimePoint next_send_;
  std::optional<TimePoint> last_send_;
};

}  // namespace nlb
