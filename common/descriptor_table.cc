#include "common/descriptor_table.h"

#include <algorithm>
#include <cstring>

#include "common/packet.h"

namespace nlb {
namespace {

static_assert(sizeof(DescriptorTable::Entry) == 44, "docs/connection-tracking.md quotes 44 bytes");

constexpr uint8_t kV6Bit = 4;

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// One round of a multiply-xorshift mixer (the finaliser of MurmurHash3's 64-bit variant).
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t HashWords(uint64_t seed, uint64_t c0, uint64_t c1, uint64_t v0, uint64_t v1,
                   uint64_t tail) {
  uint64_t h = Mix(seed ^ c0);
  h = Mix(h ^ c1);
  h = Mix(h ^ v0);
  h = Mix(h ^ v1);
  return Mix(h ^ tail);
}

// The rule index is left out of the hash (it is still part of the key, in Matches): Renumber then
// changes it in place without moving the flow. One connection falls under one rule at a time, so
// leaving it out costs no spread.
uint64_t Tail(uint16_t client_port, uint16_t vip_port, bool v6) {
  return static_cast<uint64_t>(client_port) | static_cast<uint64_t>(vip_port) << 16 |
         static_cast<uint64_t>(v6) << 40;
}

}  // namespace

DescriptorTable::DescriptorTable(const DescriptorTableOptions& options,
                                 std::chrono::steady_clock::time_point origin)
    : capacity_(std::max<uint32_t>(options.capacity, 16)),
      slot_count_(2 * capacity_),
      idle_s_(static_cast<uint32_t>(std::max<int64_t>(options.idle_timeout.count(), 1))),
      close_s_(static_cast<uint32_t>(std::max<int64_t>(options.close_delay.count(), 0))),
      seed_(options.seed),
      origin_(origin),
      slots_(new Entry[slot_count_]()),
      counts_(new std::atomic<uint32_t>[kMaxTrackedRules * kBucketCount]()),
      rule_totals_(new std::atomic<uint64_t>[kMaxTrackedRules]()) {}

size_t DescriptorTable::memory_bytes() const {
  return sizeof(Entry) * slot_count_ +
         sizeof(std::atomic<uint32_t>) * kMaxTrackedRules * kBucketCount +
         sizeof(std::atomic<uint64_t>) * kMaxTrackedRules + sizeof(*this);
}

uint32_t DescriptorTable::Seconds(std::chrono::steady_clock::time_point now) const {
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now - origin_).count();
  return s <= 0 ? 0 : static_cast<uint32_t>(std::min<int64_t>(s, UINT32_MAX));
}

uint64_t DescriptorTable::Hash(const FlowKey& key) const {
  return HashWords(seed_, Load64(key.client.bytes.data()), Load64(key.client.bytes.data() + 8),
                   Load64(key.vip.bytes.data()), Load64(key.vip.bytes.data() + 8),
                   Tail(key.client_port, key.vip_port, key.client.is_v6()));
}

uint64_t DescriptorTable::HashEntry(const Entry& e) const {
  return HashWords(seed_, Load64(e.client.data()), Load64(e.client.data() + 8),
                   Load64(e.vip.data()), Load64(e.vip.data() + 8),
                   Tail(e.client_port, e.vip_port, (e.state_family & kV6Bit) != 0));
}

bool DescriptorTable::Matches(const Entry& e, const FlowKey& key) {
  return e.client_port == key.client_port && e.vip_port == key.vip_port &&
         e.rule_index == key.rule_index && ((e.state_family & kV6Bit) != 0) == key.client.is_v6() &&
         std::memcmp(e.client.data(), key.client.bytes.data(), 16) == 0 &&
         std::memcmp(e.vip.data(), key.vip.bytes.data(), 16) == 0;
}

bool DescriptorTable::Expired(const Entry& e, uint32_t now_s) const {
  const uint32_t limit = StateOf(e) == FlowState::kClosing ? close_s_ : idle_s_;
  return now_s >= e.last_seen && now_s - e.last_seen >= limit;
}

uint32_t DescriptorTable::FindSlot(const FlowKey& key) const {
  uint32_t slot = Home(Hash(key));
  for (uint32_t i = 0; i < kProbeWindow; ++i, slot = Next(slot)) {
    const Entry& e = slots_[slot];
    if (StateOf(e) == FlowState::kFree) return kNoSlot;
    if (Matches(e, key)) return slot;
  }
  return kNoSlot;
}

void DescriptorTable::Fill(Entry& e, const FlowKey& key, uint32_t bucket, uint32_t now_s) {
  std::memcpy(e.client.data(), key.client.bytes.data(), 16);
  std::memcpy(e.vip.data(), key.vip.bytes.data(), 16);
  e.client_port = key.client_port;
  e.vip_port = key.vip_port;
  e.rule_index = key.rule_index;
  e.bucket = static_cast<uint16_t>(bucket);
  e.last_seen = now_s;
  e.state_family = static_cast<uint8_t>(static_cast<uint8_t>(FlowState::kOpen) |
                                        (key.client.is_v6() ? kV6Bit : 0));
}

void DescriptorTable::CountAdd(const Entry& e, int delta) {
  std::atomic<uint32_t>& c = counts_[e.rule_index * kBucketCount + e.bucket];
  c.store(static_cast<uint32_t>(static_cast<int64_t>(c.load(std::memory_order_relaxed)) + delta),
          std::memory_order_relaxed);
  std::atomic<uint64_t>& t = rule_totals_[e.rule_index];
  t.store(static_cast<uint64_t>(static_cast<int64_t>(t.load(std::memory_order_relaxed)) + delta),
          std::memory_order_relaxed);
  size_.store(
      static_cast<uint64_t>(static_cast<int64_t>(size_.load(std::memory_order_relaxed)) + delta),
      std::memory_order_relaxed);
}

DescriptorTable::OpenResult DescriptorTable::Open(const FlowKey& key, uint32_t bucket,
                                                  std::chrono::steady_clock::time_point now) {
  if (key.rule_index >= kMaxTrackedRules || bucket >= kBucketCount) return OpenResult::kInvalid;
  const uint32_t now_s = Seconds(now);
  const uint32_t home = Home(Hash(key));
  uint32_t slot = home;
  uint32_t free_slot = kNoSlot;
  for (uint32_t i = 0; i < kProbeWindow; ++i, slot = Next(slot)) {
    Entry& e = slots_[slot];
    if (StateOf(e) == FlowState::kFree) {
      free_slot = slot;
      break;
    }
    if (!Matches(e, key)) continue;
    e.last_seen = now_s;
    if (StateOf(e) == FlowState::kClosing) {
      e.state_family =
          static_cast<uint8_t>((e.state_family & ~3) | static_cast<uint8_t>(FlowState::kOpen));
    }
    if (e.bucket != bucket) {  // the rule's affinity changed under a reload
      CountAdd(e, -1);
      e.bucket = static_cast<uint16_t>(bucket);
      CountAdd(e, +1);
    }
    return OpenResult::kExisting;
  }
  bool evicted = false;
  if (free_slot == kNoSlot || size() >= capacity_) {
    // Full (in count, or in this window): evict the closing flow seen longest ago in the window,
    // else the expired one the sweep has not reached yet.
    uint32_t victim = kNoSlot;
    bool victim_closing = false;
    slot = home;
    for (uint32_t i = 0; i < kProbeWindow; ++i, slot = Next(slot)) {
      const Entry& e = slots_[slot];
      if (StateOf(e) == FlowState::kFree) continue;
      const bool closing = StateOf(e) == FlowState::kClosing;
      if (!closing && !Expired(e, now_s)) continue;
      if (victim == kNoSlot || (closing && !victim_closing) ||
          (closing == victim_closing && e.last_seen < slots_[victim].last_seen)) {
        victim = slot;
        victim_closing = closing;
      }
    }
    if (victim == kNoSlot) {
      Bump(counters_.table_full);
      return OpenResult::kFull;
    }
    EraseSlot(victim);
    Bump(counters_.evicted);
    evicted = true;
    // The backward shift leaves a free slot at or before the victim's or the old free slot.
    free_slot = kNoSlot;
    slot = home;
    for (uint32_t i = 0; i < kProbeWindow; ++i, slot = Next(slot)) {
      if (StateOf(slots_[slot]) == FlowState::kFree) {
        free_slot = slot;
        break;
      }
    }
    if (free_slot == kNoSlot) {  // cannot happen: the victim's cluster ended inside the window
      Bump(counters_.table_full);
      return OpenResult::kFull;
    }
  }
  Fill(slots_[free_slot], key, bucket, now_s);
  CountAdd(slots_[free_slot], +1);
  Bump(counters_.added);
  return evicted ? OpenResult::kEvicted : OpenResult::kAdded;
}

bool DescriptorTable::Touch(const FlowKey& key, uint8_t tcp_flags,
                            std::chrono::steady_clock::time_point now) {
  const uint32_t slot = FindSlot(key);
  if (slot == kNoSlot) return false;
  Entry& e = slots_[slot];
  e.last_seen = Seconds(now);
  if ((tcp_flags & (kTcpFin | kTcpRst)) != 0 && StateOf(e) == FlowState::kOpen) {
    e.state_family =
        static_cast<uint8_t>((e.state_family & ~3) | static_cast<uint8_t>(FlowState::kClosing));
    Bump(counters_.closed);
  }
  return true;
}

bool DescriptorTable::Remove(const FlowKey& key) {
  const uint32_t slot = FindSlot(key);
  if (slot == kNoSlot) return false;
  EraseSlot(slot);
  Bump(counters_.removed_other);
  return true;
}

void DescriptorTable::Renumber(const std::array<uint8_t, kMaxTrackedRules>& old_to_new,
                               uint64_t epoch) {
  bool identity = true;
  for (size_t r = 0; r < old_to_new.size(); ++r) identity &= old_to_new[r] == r;
  if (!identity) {
    std::array<ClientKey, kMaxTrackedRules> keys{};
    std::array<bool, kMaxTrackedRules> keyed{};
    for (size_t r = 0; r < old_to_new.size(); ++r) {
      if (old_to_new[r] >= kMaxTrackedRules) continue;
      keys[old_to_new[r]] = client_keys_[r];
      keyed[old_to_new[r]] = keyed_[r];
    }
    client_keys_ = keys;
    keyed_ = keyed;
  }
  if (identity || size() == 0) {
    rule_epoch_.store(epoch, std::memory_order_release);
    return;
  }
  // Start after a free slot (there is one: at most half the slots are used). A backward shift
  // only moves flows of the cluster after the hole, which ends at a free slot before the start
  // comes round again: flows not visited yet, so none is renumbered twice.
  uint32_t start = 0;
  while (StateOf(slots_[start]) != FlowState::kFree) start = Next(start);
  uint32_t slot = Next(start);
  for (uint32_t n = 0; n < slot_count_; ++n, slot = Next(slot)) {
    while (StateOf(slots_[slot]) != FlowState::kFree) {
      Entry& e = slots_[slot];
      const uint8_t to = old_to_new[e.rule_index];
      if (to >= kMaxTrackedRules) {
        Bump(counters_.removed_moved);
        EraseSlot(slot);  // a later flow may move here: look again
        continue;
      }
      if (to != e.rule_index) {
        CountAdd(e, -1);
        e.rule_index = to;
        CountAdd(e, +1);
      }
      break;
    }
  }
  rule_epoch_.store(epoch, std::memory_order_release);
}

void DescriptorTable::SetClientKey(uint8_t rule_index, ClientKey key) {
  if (rule_index >= kMaxTrackedRules) return;
  const bool changed = keyed_[rule_index] && !(client_keys_[rule_index] == key);
  client_keys_[rule_index] = key;
  keyed_[rule_index] = true;
  if (!changed || RuleConnections(rule_index) == 0) return;
  // The bucket is not part of the slot hash, so every flow stays where it is.
  for (uint32_t slot = 0; slot < slot_count_; ++slot) {
    Entry& e = slots_[slot];
    if (StateOf(e) == FlowState::kFree || e.rule_index != rule_index) continue;
    const IpAddress client = (e.state_family & kV6Bit) != 0 ? IpAddress::V6(e.client.data())
                                                            : IpAddress::V4(e.client.data());
    // Tracked flows are unfragmented TCP: the client's port is always known.
    const uint32_t bucket =
        BucketOfHash(FlowHash(client, true, e.client_port, key.affinity, key.ipv6_network_prefix));
    if (bucket == e.bucket) continue;
    CountAdd(e, -1);
    e.bucket = static_cast<uint16_t>(bucket);
    CountAdd(e, +1);
  }
}

void DescriptorTable::EraseSlot(uint32_t hole) {
  CountAdd(slots_[hole], -1);
  slots_[hole].state_family = 0;
  // Backward shift: pull back each later flow of the cluster whose home is at or before the hole,
  // which only ever brings flows closer to their home slot.
  for (uint32_t j = Next(hole); StateOf(slots_[j]) != FlowState::kFree; j = Next(j)) {
    const uint32_t home = Home(HashEntry(slots_[j]));
    if (Distance(home, j) >= Distance(hole, j)) {
      slots_[hole] = slots_[j];
      slots_[j].state_family = 0;
      hole = j;
    }
  }
}

}  // namespace nlb
