#include "common/convergence.h"

#include <algorithm>
#include <bit>
#include <tuple>

namespace nlb {
namespace {

// The first difference between two views, in words, for `nlbctl query`.
std::string DescribeChange(const std::vector<ViewMember>& before,
                           const std::vector<ViewMember>& after) {
  auto find = [](const std::vector<ViewMember>& view, uint16_t id) -> const ViewMember* {
    auto it = std::lower_bound(view.begin(), view.end(), id,
                               [](const ViewMember& m, uint16_t v) { return m.host_id < v; });
    return it != view.end() && it->host_id == id ? &*it : nullptr;
  };
  for (const ViewMember& m : after) {
    const ViewMember* old = find(before, m.host_id);
    const std::string host = "host " + std::to_string(m.host_id);
    if (old == nullptr) return host + " joined";
    if (old->boot_id != m.boot_id) return host + " restarted";
    if (old->role != m.role) return host + " is now " + std::string(HostRoleName(m.role));
    if (old->rule_params != m.rule_params) return host + " changed its rule weights";
  }
  for (const ViewMember& m : before) {
    if (find(after, m.host_id) == nullptr) return "host " + std::to_string(m.host_id) + " left";
  }
  return "view changed";
}

}  // namespace

Status Convergence::Validate(const ConvergenceConfig& config) {
  auto bad = [](std::string message) {
    return Status::Error(ErrorCode::kInvalidArgument, "convergence: " + std::move(message));
  };
  if (config.cluster_name.empty() || config.cluster_name.size() > kMaxClusterNameLength) {
    return bad("cluster name must be 1..63 bytes");
  }
  if (config.key.empty()) return bad("the cluster key is empty");
  if (config.local_host_id == 0 || config.local_host_id > kMaxHostId) {
    return bad("host id " + std::to_string(config.local_host_id) + " is not in 1..256");
  }
  if (!config.dedicated_address.is_v4() && !config.dedicated_address.is_v6()) {
    return bad("the dedicated address is not set");
  }
  if (config.period < std::chrono::milliseconds(10)) return bad("period must be at least 10 ms");
  if (config.tolerance < 2) return bad("tolerance must be at least 2 periods");
  if (config.rule_modes.size() > kMaxHeartbeatRules) {
    return bad("at most " + std::to_string(kMaxHeartbeatRules) + " port rules");
  }
  if (config.rule_names.size() != config.rule_modes.size()) {
    return bad("rule names do not match the rules one for one");
  }
  if (config.rule_params.size() != config.rule_modes.size()) {
    return bad("rule parameters do not match the rules one for one");
  }
  for (const HostRuleParams& p : config.rule_params) {
    if (p.weight > 255 || p.priority > 255) return bad("weight and priority must be 0..255");
  }
  return Status::Ok();
}

Convergence::Convergence(ConvergenceConfig config, TimePoint now)
    : config_(std::move(config)),
      now_(now),
      moving_(config_.local_host_id, config_.moving_timeout),
      next_send_(now) {
  moving_.SetServing(config_.role == HostRole::kActive || config_.role == HostRole::kDraining);
  pending_cause_ = "start";
  change_started_ = now;
  alone_since_ = now;
  Recompute(now);
}

bool Convergence::converged() const {
  return !local_kept_out_ && map_ && map_->view_digest == view_digest_ &&
         all_agree_since_.has_value();
}

bool Convergence::IsMember(uint16_t host_id, uint64_t boot_id) const {
  auto it = std::lower_bound(view_.begin(), view_.end(), host_id,
                             [](const ViewMember& m, uint16_t id) { return m.host_id < id; });
  return it != view_.end() && it->host_id == host_id && it->boot_id == boot_id;
}

bool Convergence::Material(const Heartbeat& before, const Heartbeat& after) {
  return RoleOfState(before.state) != RoleOfState(after.state) ||
         before.holds_map != after.holds_map || before.config_digest != after.config_digest ||
         before.rule_params != after.rule_params ||
         before.dedicated_address != after.dedicated_address;
}

Status Convergence::OnDatagram(std::span<const uint8_t> bytes, TimePoint arrival) {
  // A batch read after a tick can hand over datagrams stamped before it: the view only moves
  // forward in time, liveness takes the stamp.
  const TimePoint now = std::max(now_, arrival);
  now_ = now;
  if (IsMovingReport(bytes)) return OnMovingReport(bytes, arrival);
  Result<Heartbeat> decoded = DecodeHeartbeat(bytes, config_.key, config_.cluster_name);
  if (!decoded.ok()) {
    switch (decoded.status().code()) {
      case ErrorCode::kAuthentication:
        ++counters_.bad_hmac;
        break;
      case ErrorCode::kInvalidArgument:
        ++counters_.wrong_cluster;
        break;
      default:
        ++counters_.malformed;
        break;
    }
    return decoded.status();
  }
  Heartbeat& hb = decoded.value();
  // Built only for an error: this runs for every heartbeat of every peer.
  auto host = [&hb] { return "host " + std::to_string(hb.host_id); };
  if (hb.host_id == config_.local_host_id && hb.boot_id == config_.boot_id) {
    ++counters_.looped_back;
    return Status::Ok();
  }
  if (hb.config_digest == config_.config_digest &&
      hb.rule_params.size() != config_.rule_modes.size()) {
    ++counters_.malformed;
    return Status::Error(ErrorCode::kMalformed,
                         host() + " announces " + std::to_string(hb.rule_params.size()) +
                             " rule weights for a configuration of " +
                             std::to_string(config_.rule_modes.size()) + " rules");
  }
  if (replay_.Check(hb.host_id, hb.boot_id, hb.sequence) == ReplayGuard::Verdict::kReplayed) {
    ++counters_.replayed;
    return Status::Error(ErrorCode::kAuthentication,
                         host() + " heartbeat replayed (sequence " + std::to_string(hb.sequence) +
                             " of boot " + std::to_string(hb.boot_id) + " is not new)");
  }
  if (hb.host_id == config_.local_host_id) ++counters_.duplicate_id;
  ++counters_.accepted;

  const PeerKey key{hb.host_id, hb.boot_id};
  auto it = peers_.find(key);
  bool material = false;
  if (it == peers_.end()) {
    material = true;
    // A new boot from the same id and address is a restart: the old process is gone, and its
    // stragglers must not bring it back.
    for (auto old = peers_.lower_bound({hb.host_id, 0});
         old != peers_.end() && old->first.first == hb.host_id;) {
      if (old->second.last.dedicated_address == hb.dedicated_address) {
        replay_.Supersede(hb.host_id, old->first.second);
        old = peers_.erase(old);
      } else {
        ++old;
      }
    }
    it = peers_.emplace(key, Peer{std::move(hb), arrival + Tolerance()}).first;
    next_expiry_ = std::min(next_expiry_, it->second.deadline);
    alone_since_.reset();
  } else {
    material = Material(it->second.last, hb);
    const bool member = IsMember(key.first, key.second) && !local_kept_out_;
    const bool agreed_before = it->second.last.view_digest == view_digest_;
    it->second.last = std::move(hb);
    Hear(it->second, arrival);
    if (member && (it->second.last.view_digest != view_digest_ || !it->second.last.map_current)) {
      unsettled_at_ = now;
    }
    if (!material && member) {
      const bool agrees = it->second.last.view_digest == view_digest_;
      if (agrees != agreed_before) agreeing_ += agrees ? 1 : -1;
      if (agreeing_ + 1 == view_.size()) {
        if (!all_agree_since_) all_agree_since_ = now;
      } else {
        all_agree_since_.reset();
      }
    }
  }
  if (it->second.last.moving_in_reports && CurrentUnderOurRules(it->second.last)) {
    // Its reports went out just before this heartbeat, judged by the sender's previous digest.
    moving_.ConfirmCurrent(key.first, key.second, it->second.last.sequence);
  }
  if (!it->second.last.moving_in_reports) {
    const Heartbeat& last = it->second.last;
    std::vector<BucketSet> per_rule;  // empty vector: no bucket (the common case, kept cheap)
    if (!last.moving.empty()) per_rule.resize(last.rule_params.size());
    for (const MovingBucket& m : last.moving) per_rule[m.rule_index].Add(m.bucket);
    moving_.OnPeerReport(key.first, key.second, last.sequence, last.view_digest,
                         CurrentUnderOurRules(last),
                         InOurNumbering(last.config_digest, std::move(per_rule)));
  }
  if (material && !recompute_at_) recompute_at_ = now + config_.period / 50;
  if (indirect_peers_ > 0) Expire(now);
  return Status::Ok();
}

void Convergence::Hear(Peer& peer, TimePoint arrival) {
  peer.deadline = std::max(peer.deadline, arrival + Tolerance());
  peer.silent = false;
}

Status Convergence::OnMovingReport(std::span<const uint8_t> bytes, TimePoint arrival) {
  Result<MovingReportPart> decoded =
      DecodeMovingReportPart(bytes, config_.key, config_.cluster_name);
  if (!decoded.ok()) {
    ++counters_.reports_dropped;
    return decoded.status();
  }
  MovingReportPart& part = decoded.value();
  const PeerKey key{part.report.host_id, part.report.boot_id};
  if (key.first == config_.local_host_id && key.second == config_.boot_id) {
    ++counters_.looped_back;
    return Status::Ok();
  }
  // Authentic, but only members' holdings count; a sender becomes a member through heartbeats.
  if (!IsMember(key.first, key.second)) {
    ++counters_.reports_dropped;
    return Status::Error(
        ErrorCode::kUnavailable,
        "moving report from host " + std::to_string(key.first) + ", which is not a member");
  }
  ++counters_.reports_accepted;
  // Authentic and from a member: proof of life like a heartbeat (a host sending a long moving
  // list sends these first), as long as it is newer than the heartbeat heard last.
  if (auto peer = peers_.find(key); peer != peers_.end()) {
    const std::pair<uint64_t, uint32_t> part_key{part.report.sequence, part.part_index};
    if (part.report.sequence > peer->second.last.sequence &&
        part_key > peer->second.report_refresh) {
      peer->second.report_refresh = part_key;
      Hear(peer->second, arrival);
    }
  }
  PendingReport& pending = pending_reports_[key];
  const uint64_t sequence = part.report.sequence;
  if (!pending.received.empty() && sequence < pending.report.sequence) {
    return Status::Ok();  // a straggler of a report already superseded
  }
  if (pending.received.empty() || sequence > pending.report.sequence) {
    pending.report.sequence = sequence;
    pending.report.view_digest = part.report.view_digest;
    pending.report.map_current = part.report.map_current;
    // In the sender's numbering, which has as many rules as its heartbeats carry weights for.
    auto peer = peers_.find(key);
    pending.report.rules.assign(
        peer != peers_.end() ? peer->second.last.rule_params.size() : config_.rule_modes.size(),
        BucketSet());
    pending.received.assign(part.part_count, false);
    pending.missing = part.part_count;
  }
  if (part.part_index >= pending.received.size() || pending.received[part.part_index]) {
    return Status::Ok();  // a duplicate, or a part count that changed within one report
  }
  pending.received[part.part_index] = true;
  --pending.missing;
  for (size_t r = 0; r < part.report.rules.size() && r < pending.report.rules.size(); ++r) {
    pending.report.rules[r] |= part.report.rules[r];
  }
  if (pending.missing == 0) {
    auto peer = peers_.find(key);
    std::vector<BucketSet> rules =
        peer != peers_.end()
            ? InOurNumbering(peer->second.last.config_digest, std::move(pending.report.rules))
            : std::move(pending.report.rules);
    const bool current = pending.report.map_current && peer != peers_.end() &&
                         peer->second.last.config_digest == config_.config_digest;
    moving_.OnPeerReport(key.first, key.second, pending.report.sequence, pending.report.view_digest,
                         current, std::move(rules));
    pending_reports_.erase(key);
  }
  return Status::Ok();
}

void Convergence::SetLocalConnections(std::span<const BucketSet> per_rule,
                                      uint64_t applied_generation) {
  moving_.SetLocalConnections(per_rule, applied_generation);
}

bool Convergence::HoldsMovingBuckets() const {
  for (const BucketSet& s : moving_.holding()) {
    if (!s.Empty()) return true;
  }
  return false;
}

void Convergence::Expire(TimePoint now) {
  bool changed = false;
  size_t indirect = 0;
  next_expiry_ = TimePoint::max();
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now < it->second.deadline) {
      next_expiry_ = std::min(next_expiry_, it->second.deadline);
      ++it;
      continue;
    }
    if (!it->second.silent) {
      // Our heard set shrank: say so at once, so that the others, who may be keeping this host
      // only because we heard it, can let it go without waiting for our next beat.
      it->second.silent = true;
      SendSoon(now);
    }
    // Silent to us, but a member we hear still hears it: under heavy loss this keeps one lost
    // path from failing over a host the rest of the cluster hears.
    const uint16_t id = it->first.first;
    const bool heard_by_other = std::any_of(peers_.begin(), peers_.end(), [&](const auto& q) {
      return q.first.first != id && now < q.second.deadline && q.second.last.heard.Contains(id);
    });
    if (heard_by_other) {
      ++indirect;
      ++it;
    } else {
      it = peers_.erase(it);
      changed = true;
    }
  }
  indirect_peers_ = indirect;
  if (peers_.empty() && !alone_since_) alone_since_ = now;
  if (changed) Recompute(now);
}

void Convergence::Recompute(TimePoint now) {
  recompute_at_.reset();
  struct Candidate {
    ViewMember member;
    bool holds_map;
    Digest config_digest;
    bool local;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(peers_.size() + 1);
  candidates.push_back({{config_.local_host_id, config_.boot_id, config_.dedicated_address,
                         config_.role, config_.rule_params},
                        serving(),
                        config_.config_digest,
                        true});
  for (const auto& [key, peer] : peers_) {
    candidates.push_back({{key.first, key.second, peer.last.dedicated_address,
                           RoleOfState(peer.last.state), peer.last.rule_params},
                          peer.last.holds_map,
                          peer.last.config_digest,
                          false});
  }
  // One holder per host id: the one serving a map, then the lower address, then the lower boot,
  // so every host that sees the same candidates picks the same one.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tuple(a.member.host_id, !a.holds_map, a.member.dedicated_address,
                      a.member.boot_id) <
           std::tuple(b.member.host_id, !b.holds_map, b.member.dedicated_address, b.member.boot_id);
  });
  std::vector<KeptOutHost> kept_out;
  std::optional<KeptOutReason> local_reason;
  auto keep_out = [&](const Candidate& c, KeptOutReason reason) {
    if (c.local) {
      local_reason = reason;
    } else {
      kept_out.push_back({c.member.host_id, c.member.dedicated_address, c.member.boot_id, reason});
    }
  };
  std::vector<const Candidate*> holders;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0 && candidates[i].member.host_id == candidates[i - 1].member.host_id) {
      keep_out(candidates[i], KeptOutReason::kDuplicateId);
    } else {
      holders.push_back(&candidates[i]);
    }
  }
  // The established configuration: the largest group, then the one with more hosts serving a
  // map, then the one holding the lowest host id.
  struct Group {
    size_t size = 0;
    size_t serving = 0;
    uint16_t lowest_id = kMaxHostId + 1;
  };
  std::map<Digest, Group> groups;
  for (const Candidate* c : holders) {
    Group& g = groups[c->config_digest];
    ++g.size;
    g.serving += c->holds_map ? 1 : 0;
    g.lowest_id = std::min(g.lowest_id, c->member.host_id);
  }
  // A cluster-wide rule change (nlbctl reload --cluster) switches the hosts milliseconds apart.
  // While the hosts' digests have been mixed this way for less than a grace, the mix changes
  // nothing: the view and the kept-out set stay, and the map in use keeps serving. A mix that
  // outlives the grace (a host with other rules) keeps hosts out as usual.
  std::vector<std::pair<uint16_t, Digest>> digests;
  for (const Candidate* c : holders) digests.emplace_back(c->member.host_id, c->config_digest);
  if (groups.size() > 1) {
    if (digests != mixed_digests_) {
      mixed_digests_ = digests;
      mixed_since_ = now;
    }
    const TimePoint grace_end = mixed_since_ + config_.period * kDigestSwitchGracePeriods;
    if (now < grace_end) {
      recompute_at_ = grace_end;
      RecountAgreement(now);
      return;
    }
  } else {
    mixed_digests_.clear();
  }
  const Digest* established = nullptr;
  const Group* best = nullptr;
  for (const auto& [digest, group] : groups) {
    if (best == nullptr ||
        std::tuple(group.size, group.serving, -static_cast<int>(group.lowest_id)) >
            std::tuple(best->size, best->serving, -static_cast<int>(best->lowest_id))) {
      best = &group;
      established = &digest;
    }
  }
  std::vector<ViewMember> view;
  for (const Candidate* c : holders) {
    if (c->config_digest == *established) {
      view.push_back(c->member);
    } else {
      keep_out(*c, KeptOutReason::kMismatchedRules);
    }
  }
  auto same_host = [](const KeptOutHost& a, const KeptOutHost& b) {
    return a.host_id == b.host_id && a.boot_id == b.boot_id && a.reason == b.reason;
  };
  if (!std::equal(kept_out.begin(), kept_out.end(), kept_out_.begin(), kept_out_.end(),
                  same_host)) {
    SendSoon(now);  // a host we just kept out learns it from our heartbeat, not a period later
  }
  kept_out_ = std::move(kept_out);
  local_kept_out_ = local_reason;

  const Digest digest = ViewDigest(view);
  if (digest != view_digest_) {
    if (local_reason) {
      NoteChange("this host is kept out: " + std::string(KeptOutReasonName(*local_reason)), now);
    } else {
      NoteChange(DescribeChange(view_, view), now);
    }
    view_digest_ = digest;
    SendSoon(now);
  }
  view_ = std::move(view);
  moving_.RetainMembers(view_);
  for (auto it = pending_reports_.begin(); it != pending_reports_.end();) {
    it = IsMember(it->first.first, it->first.second) ? std::next(it) : pending_reports_.erase(it);
  }
  RecountAgreement(now);
}

void Convergence::SendSoon(TimePoint now) {
  // At once, but never more than twenty times a period however the view flaps.
  const TimePoint earliest = last_send_ ? std::max(now, *last_send_ + config_.period / 20) : now;
  next_send_ = std::min(next_send_, earliest);
}

void Convergence::RecountAgreement(TimePoint now) {
  agreeing_ = 0;
  if (local_kept_out_) {
    all_agree_since_.reset();
    return;
  }
  for (const ViewMember& m : view_) {
    auto it = peers_.find({m.host_id, m.boot_id});
    if (it != peers_.end() && it->second.last.view_digest == view_digest_) ++agreeing_;
  }
  if (agreeing_ + 1 == view_.size()) {
    if (!all_agree_since_) all_agree_since_ = now;
  } else {
    all_agree_since_.reset();
  }
}

void Convergence::NoteChange(std::string cause, TimePoint now) {
  if (change_started_) return;  // the first change names the convergence
  change_started_ = now;
  pending_cause_ = std::move(cause);
}

void Convergence::NoteLateness(TimePoint now) {
  // Measured from the later of the wakeup asked for and the previous tick, so that lateness
  // intervals never overlap: the deadlines move at most by the time the loop really lost.
  TimePoint scheduled = NextWakeup();
  if (last_tick_) scheduled = std::max(scheduled, *last_tick_);
  last_tick_ = std::max(last_tick_.value_or(now), now);
  if (!ticked_ || now <= scheduled) return;
  const Duration lateness = now - scheduled;
  if (lateness <= Duration(config_.period) / kLateTickSlackDivisor) return;
  ++counters_.late_ticks;
  counters_.max_tick_lateness = std::max(counters_.max_tick_lateness, lateness);
  // This host could not listen while it was late; its peers keep the time it lost. next_expiry_
  // may now be early, which only costs a rescan.
  for (auto& [key, peer] : peers_) peer.deadline += lateness;
}

Convergence::Actions Convergence::OnTick(TimePoint now) {
  NoteLateness(now);
  now_ = std::max(now_, now);
  if (!ticked_) {
    // The daemon builds this machine before its heartbeat socket is open; a lone start must
    // listen its two periods from here, or a host joining a cluster would take every bucket
    // before it heard anyone (and reset every connection in the cluster).
    ticked_ = true;
    if (!map_ && all_agree_since_ && view_.size() == 1) all_agree_since_ = now;
  }
  if (recompute_at_ && now >= *recompute_at_) Recompute(now);
  if (now >= next_expiry_ || indirect_peers_ > 0) Expire(now);
  Actions actions;
  if (local_kept_out_ && map_) {
    map_.reset();
    moving_.OnMapDropped();
    actions.map_changed = true;
  }
  // A lone host that has never converged listens a second period before taking everything.
  const Duration stability =
      (!map_ && view_.size() == 1) ? 2 * Duration(config_.period) : Duration(config_.period);
  if (!local_kept_out_ && all_agree_since_ && now >= *all_agree_since_ + stability &&
      (!map_ || map_->view_digest != view_digest_)) {
    ConvergedMap next = config_.compute_map
                            ? config_.compute_map(view_, config_.rule_modes, config_.rule_names)
                            : ComputeConvergedMap(view_, config_.rule_modes, config_.rule_names);
    next.generation = ++generation_;
    moving_.OnMapAdopted(map_ ? &*map_ : nullptr, next, now);
    map_ = std::move(next);
    actions.map_changed = true;
    SendSoon(now);  // the others wait for our report under the new map
  }
  if (change_started_ && converged()) {
    last_cause_ = std::move(pending_cause_);
    last_duration_ = now - *change_started_;
    change_started_.reset();
  }
  moving_.Tick(now);
  actions.moving_changed = moving_.TakeChanged();
  if (now >= next_send_) {
    Heartbeat hb = LocalHeartbeat(now);
    if (hb.moving_in_reports) {
      MovingReport report;
      report.cluster_name = config_.cluster_name;
      report.host_id = config_.local_host_id;
      report.boot_id = config_.boot_id;
      report.sequence = hb.sequence;
      report.view_digest = hb.view_digest;
      report.map_current = hb.map_current;
      report.rules = moving_.holding();
      report.rules.resize(config_.rule_modes.size());
      Result<std::vector<std::vector<uint8_t>>> parts = EncodeMovingReport(report, config_.key);
      if (parts.ok()) {
        counters_.reports_sent += parts->size();
        actions.moving_reports = std::move(parts).value();
      }
    }
    Result<std::vector<uint8_t>> bytes = EncodeHeartbeat(hb, config_.key);
    // Validate() bounds every field, so encoding cannot fail; if it ever does, skip one beat
    // rather than send garbage.
    if (bytes.ok()) {
      actions.heartbeat = std::move(bytes).value();
      ++counters_.sent;
    }
    last_send_ = now;
    next_send_ = now + (converged() ? Duration(config_.period) : Duration(config_.period) / 2);
  }
  return actions;
}

TimePoint Convergence::NextWakeup() const {
  TimePoint next = std::min({next_send_, next_expiry_, moving_.NextTimeout()});
  if (moving_.dirty()) next = std::min(next, now_);  // a report changed the moving buckets
  if (recompute_at_) next = std::min(next, *recompute_at_);
  if (!local_kept_out_ && all_agree_since_ && (!map_ || map_->view_digest != view_digest_)) {
    const Duration stability =
        (!map_ && view_.size() == 1) ? 2 * Duration(config_.period) : Duration(config_.period);
    next = std::min(next, *all_agree_since_ + stability);
  }
  return next;
}

Heartbeat Convergence::LocalHeartbeat(TimePoint now) {
  Heartbeat hb;
  hb.cluster_name = config_.cluster_name;
  hb.host_id = config_.local_host_id;
  hb.dedicated_address = config_.dedicated_address;
  hb.boot_id = config_.boot_id;
  hb.sequence = ++sequence_;
  hb.state = StateOfRole(config_.role, converged());
  hb.holds_map = serving();
  hb.map_current = map_.has_value() && map_->view_digest == view_digest_;
  size_t moving = 0;
  for (const BucketSet& s : moving_.holding()) moving += s.Count();
  if (moving > kMaxMovingBuckets) {
    hb.moving_in_reports = true;
  } else {
    const auto& holding = moving_.holding();
    for (size_t r = 0; r < holding.size() && r < config_.rule_modes.size(); ++r) {
      for (uint32_t w = 0; w < BucketSet::kWords; ++w) {
        for (uint64_t bits = holding[r].word(w); bits != 0; bits &= bits - 1) {
          const uint32_t b = w * 64 + static_cast<uint32_t>(std::countr_zero(bits));
          hb.moving.push_back({static_cast<uint16_t>(r), static_cast<uint16_t>(b)});
        }
      }
    }
  }
  for (const ViewMember& m : view_) hb.members.Add(m.host_id);
  for (const auto& [key, peer] : peers_) {
    if (now < peer.deadline) hb.heard.Add(key.first);
  }
  hb.view_digest = view_digest_;
  hb.config_digest = config_.config_digest;
  hb.rule_params = config_.rule_params;
  for (const KeptOutHost& k : kept_out_) {
    if (hb.kept_out.size() == kMaxKeptOutReports) break;
    hb.kept_out.push_back({k.host_id, k.boot_id, k.reason});
  }
  // Between a reload and the agent's next SetRuleHealth the two may not be aligned: then none.
  if (config_.rule_health.size() == hb.rule_params.size()) hb.rule_health = config_.rule_health;
  return hb;
}

void Convergence::SetRole(HostRole role, TimePoint now) {
  config_.role = role;
  moving_.SetServing(role == HostRole::kActive || role == HostRole::kDraining);
  Recompute(now);
}

void Convergence::ForgetMap(TimePoint now) {
  if (!map_) return;
  map_.reset();
  moving_.OnMapDropped();
  NoteChange("the lease of this host expired", now);
}

void Convergence::SetRuleParams(std::vector<HostRuleParams> params, TimePoint now) {
  config_.rule_params = std::move(params);
  Recompute(now);
}

void Convergence::SetRuleHealth(std::vector<RuleHealth> health, TimePoint now) {
  if (health == config_.rule_health) return;
  config_.rule_health = std::move(health);
  SendSoon(now);  // peers show it and decide their own fail-open by it: no period's delay
}

void Convergence::SetRules(const Digest& config_digest, std::vector<FilteringMode> rule_modes,
                           std::vector<std::string> rule_names,
                           std::vector<HostRuleParams> rule_params, TimePoint now,
                           std::vector<ClientKey> rule_keys) {
  rule_keys.resize(rule_names.size());
  // Kept rules (by name) whose clients now hash differently, in the new numbering.
  std::vector<size_t> rekeyed;
  const std::vector<size_t> old_of_new = MatchRulesByName(rule_names, config_.rule_names);
  for (size_t n = 0; n < rule_names.size(); ++n) {
    const size_t o = old_of_new[n];
    if (o == kRuleRemoved) continue;
    const ClientKey before = o < config_.rule_keys.size() ? config_.rule_keys[o] : ClientKey{};
    if (!(before == rule_keys[n])) rekeyed.push_back(n);
  }
  if (config_digest != config_.config_digest) {
    previous_digest_ = config_.config_digest;
    previous_of_new_ = MatchRulesByName(rule_names, config_.rule_names);
  }
  config_.config_digest = config_digest;
  config_.rule_modes = std::move(rule_modes);
  config_.rule_params = std::move(rule_params);
  if (map_ && RuleNames(*map_) != rule_names) {
    // Keep serving the agreed owners, each rule under its new number, until the next map; the
    // moving buckets are in the map's numbering and follow it.
    moving_.RenumberRules(MatchRulesByName(rule_names, RuleNames(*map_)));
    map_ = RenumberMap(*map_, config_.rule_modes, rule_names);
  }
  config_.rule_names = std::move(rule_names);
  config_.rule_keys = std::move(rule_keys);
  if (map_) {
    std::erase_if(rekeyed, [&](size_t r) {
      return r >= map_->rules.size() || map_->rules[r].bucket_owner.size() != kBucketCount;
    });
    if (!rekeyed.empty()) {
      // Same owners, new keys: a map of its own for this host, so that connection counts are
      // only read once the data path has rebucketed them under the new keys.
      map_->generation = ++generation_;
      moving_.OnRulesRekeyed(rekeyed, map_->generation, now);
      SendSoon(now);
    }
  }
  Recompute(now);
}

bool Convergence::CurrentUnderOurRules(const Heartbeat& last) const {
  // A peer on other rules (it has not reloaded yet, or reloaded first) may hash clients by
  // another key: its report does not end this host's presumption (see OnRulesRekeyed).
  return last.map_current && last.config_digest == config_.config_digest;
}

std::vector<BucketSet> Convergence::InOurNumbering(const Digest& sender_digest,
                                                   std::vector<BucketSet> per_rule) const {
  if (per_rule.empty() || sender_digest == config_.config_digest ||
      sender_digest != previous_digest_) {
    return per_rule;  // ours, or unknown: taken as is
  }
  std::vector<BucketSet> translated(previous_of_new_.size());
  for (size_t n = 0; n < previous_of_new_.size(); ++n) {
    const size_t o = previous_of_new_[n];
    if (o != kRuleRemoved && o < per_rule.size()) translated[n] = per_rule[o];
  }
  return translated;
}

ConvergenceReport Convergence::Report() const {
  ConvergenceReport report;
  report.converged = converged();
  report.serving = serving();
  report.local_kept_out = local_kept_out_;
  for (const ViewMember& m : view_) {
    MemberReport member{
        m.host_id, m.dedicated_address, m.boot_id, HostState::kConverging, m.rule_params, {}};
    if (m.host_id == config_.local_host_id && m.boot_id == config_.boot_id) {
      member.state = StateOfRole(config_.role, converged());
      member.rule_health = config_.rule_health;
    } else if (auto it = peers_.find({m.host_id, m.boot_id}); it != peers_.end()) {
      member.state = it->second.last.state;
      member.rule_health = it->second.last.rule_health;
    }
    report.members.push_back(member);
  }
  report.kept_out = kept_out_;
  report.generation = map_ ? map_->generation : 0;
  report.last_cause = last_cause_;
  report.last_duration = last_duration_;
  for (const auto& [key, peer] : peers_) report.peers_heard += now_ < peer.deadline ? 1 : 0;
  report.alone_for = alone_since_ && now_ > *alone_since_ ? now_ - *alone_since_ : Duration{};
  report.counters = counters_;
  return report;
}

}  // namespace nlb
