#include "agent/bpf_plane.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "agent/bpf/nlb_tc_object.h"
#include "agent/bpf/nlb_xdp_object.h"
#include "agent/bpf_map_writer.h"
#include "common/bpf/flow_table_layout.h"
#include "common/bpf/rule_counter_layout.h"

namespace nlb::agent {
namespace {

Status Unavailable(const std::string& what, int error) {
  return Status::Error(ErrorCode::kUnavailable, "BPF data plane: " + what + ": " +
                                                    std::strerror(error < 0 ? -error : error));
}

size_t PageRounded(size_t size) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

}  // namespace

Result<std::unique_ptr<BpfPlane>> BpfPlane::Load(const LoadOptions& options) {
  std::unique_ptr<BpfPlane> plane(new BpfPlane());
  plane->options_ = options;
  LoadOptions& o = plane->options_;
  o.flow_capacity = std::max<uint32_t>(o.flow_capacity, 16);
  if (o.half_open_capacity == 0) {
    // An LRU map keeps up to 128 free entries per CPU of its own and may evict before it is full:
    // keep those lists a small part of the map.
    const int cpus = std::max(libbpf_num_possible_cpus(), 1);
    o.half_open_capacity =
        std::max({o.flow_capacity / 8, 1024u, 256u * static_cast<uint32_t>(cpus)});
  }
  const bool xdp = o.hook == Hook::kXdp;
  const std::span<const unsigned char> object = xdp ? NlbXdpObject() : NlbTcObject();
  LIBBPF_OPTS(bpf_object_open_opts, open_options, .object_name = xdp ? "nlb_xdp" : "nlb_tc");
  plane->object_ = bpf_object__open_mem(object.data(), object.size(), &open_options);
  if (plane->object_ == nullptr) return Unavailable("open the embedded object", errno);
  bpf_map* flows = bpf_object__find_map_by_name(plane->object_, "nlb_flows");
  bpf_map* half_open = bpf_object__find_map_by_name(plane->object_, "nlb_half_open");
  bpf_map* settings = bpf_object__find_map_by_name(plane->object_, "nlb_flow_settings");
  bpf_map* flow_counters = bpf_object__find_map_by_name(plane->object_, "nlb_flow_counters");
  if (flows == nullptr || half_open == nullptr || settings == nullptr || flow_counters == nullptr) {
    return Status::Error(ErrorCode::kInternal, "BPF data plane: the object lacks its flow maps");
  }
  if (bpf_map__set_max_entries(flows, o.flow_capacity) != 0 ||
      bpf_map__set_max_entries(half_open, o.half_open_capacity) != 0) {
    return Unavailable("size the connection table", errno);
  }
  if (const int err = bpf_object__load(plane->object_); err != 0) {
    return Unavailable("load (the verifier's log is on stderr)", err);
  }
  bpf_program* program =
      bpf_object__find_program_by_name(plane->object_, xdp ? "nlb_xdp" : "nlb_ingress");
  bpf_map* control = bpf_object__find_map_by_name(plane->object_, "nlb_control");
  bpf_map* counters = bpf_object__find_map_by_name(plane->object_, "nlb_counters");
  bpf_map* rule_counters = bpf_object__find_map_by_name(plane->object_, "nlb_rule_counters");
  if (program == nullptr || control == nullptr || counters == nullptr || rule_counters == nullptr) {
    return Status::Error(ErrorCode::kInternal, "BPF data plane: the object lacks a program or map");
  }
  plane->program_fd_ = bpf_program__fd(program);
  plane->control_fd_ = bpf_map__fd(control);
  plane->counters_fd_ = bpf_map__fd(counters);
  plane->rule_counters_fd_ = bpf_map__fd(rule_counters);
  plane->flows_fd_ = bpf_map__fd(flows);
  plane->half_open_fd_ = bpf_map__fd(half_open);
  plane->flow_counters_fd_ = bpf_map__fd(flow_counters);
  if (xdp) {
    bpf_map* settings_map = bpf_object__find_map_by_name(plane->object_, "nlb_xdp_settings");
    bpf_map* record = bpf_object__find_map_by_name(plane->object_, "nlb_xdp_record");
    bpf_program* deliver = bpf_object__find_program_by_name(plane->object_, "nlb_xdp_deliver");
    if (settings_map == nullptr || record == nullptr || deliver == nullptr) {
      return Status::Error(ErrorCode::kInternal, "BPF data plane: the XDP object lacks its maps");
    }
    plane->xdp_settings_fd_ = bpf_map__fd(settings_map);
    plane->xdp_record_fd_ = bpf_map__fd(record);
    plane->xdp_deliver_fd_ = bpf_program__fd(deliver);
  }
  const auto ns = [](std::chrono::seconds s) {
    return static_cast<uint64_t>(std::chrono::nanoseconds(s).count());
  };
  const nlb_flow_settings timeouts{ns(o.idle_timeout), ns(o.close_delay), ns(o.half_open_timeout)};
  const uint32_t zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(settings), &zero, &timeouts, BPF_ANY) != 0) {
    return Unavailable("write nlb_flow_settings", errno);
  }
  if (Status s = plane->MapHalves(); !s.ok()) return s;
  // Both halves start empty (not serving) and the lease withdrawn.
  if (Status s = plane->WriteControl(nlb_control{}); !s.ok()) return s;
  return plane;
}

BpfPlane::~BpfPlane() {
  if (configs_ != nullptr) munmap(configs_, configs_size_);
  if (buckets_ != nullptr) munmap(buckets_, buckets_size_);
  bpf_object__close(object_);  // accepts null
}

Status BpfPlane::MapHalves() {
  bpf_map* configs = bpf_object__find_map_by_name(object_, "nlb_config");
  bpf_map* buckets = bpf_object__find_map_by_name(object_, "nlb_buckets");
  if (configs == nullptr || buckets == nullptr) {
    return Status::Error(ErrorCode::kInternal, "BPF data plane: the object lacks its map halves");
  }
  // An array's elements are 8-byte aligned in the mapping; both value sizes are multiples of 8,
  // so the mapping is a plain C array of the shared structs.
  static_assert(sizeof(nlb_config) % 8 == 0 && sizeof(nlb_rule_buckets) % 8 == 0);
  configs_size_ = PageRounded(sizeof(nlb_config) * NLB_HALVES);
  buckets_size_ = PageRounded(sizeof(nlb_rule_buckets) * NLB_HALVES * NLB_MAX_RULES);
  void* c =
      mmap(nullptr, configs_size_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(configs), 0);
  if (c == MAP_FAILED) return Unavailable("mmap nlb_config", errno);
  configs_ = static_cast<nlb_config*>(c);
  void* b =
      mmap(nullptr, buckets_size_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(buckets), 0);
  if (b == MAP_FAILED) return Unavailable("mmap nlb_buckets", errno);
  buckets_ = static_cast<nlb_rule_buckets*>(b);
  return Status::Ok();
}

Status BpfPlane::WriteControl(const nlb_control& next) {
  const uint32_t key = 0;
  if (bpf_map_update_elem(control_fd_, &key, &next, BPF_ANY) != 0) {
    return Unavailable("write nlb_control", errno);
  }
  control_ = next;
  return Status::Ok();
}

void BpfPlane::AwaitGrace() {
  if (!grace_owed_) return;
  // MEMBARRIER_CMD_GLOBAL is synchronize_rcu(): it returns once every RCU read-side section
  // that began before it has ended, and tc programs run inside one, so no packet still reads
  // the half the last flip left. Kernels booted with nohz_full refuse it (EINVAL): then a
  // millisecond, far longer than a packet's run in softirq, which nothing preempts.
  if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
    ++grace_sleeps_;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  grace_owed_ = false;
}

Status BpfPlane::Publish(const MapSnapshot& snapshot) {
  AwaitGrace();
  const uint32_t inactive = (control_.active_half ^ 1u) & 1u;
  const std::span<nlb_rule_buckets> half_buckets(buckets_ + inactive * NLB_MAX_RULES,
                                                 NLB_MAX_RULES);
  std::vector<std::string> names;
  for (size_t i = 0; i < snapshot.rules.size() && i < NLB_MAX_RULES; ++i) {
    names.push_back(snapshot.rules[i].rule.name);
  }
  RuleCounterSlots::Plan slots = rule_slots_.Assign(names);
  // After the grace period: no packet counts into a slot that is free now.
  if (Status s = ZeroRuleSlots(slots.fresh); !s.ok()) return s;
  if (Status s = WriteMapHalf(snapshot, &configs_[inactive], half_buckets, slots.slots); !s.ok()) {
    return s;
  }
  // The update is a system call: the stores above are visible to the program before the index.
  nlb_control next = control_;
  next.active_half = inactive;
  if (Status s = WriteControl(next); !s.ok()) return s;
  grace_owed_ = true;
  rule_slots_.Commit(std::move(slots));
  return Status::Ok();
}

Status BpfPlane::RenewLease(std::chrono::nanoseconds remaining) {
  nlb_control next = control_;
  next.lease_until_ns = 0;
  if (remaining.count() > 0) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns()'s clock
    next.lease_until_ns = static_cast<uint64_t>(now.tv_sec) * 1000000000u +
                          static_cast<uint64_t>(now.tv_nsec) +
                          static_cast<uint64_t>(remaining.count());
  }
  return WriteControl(next);
}

Result<BpfPlane::Counters> BpfPlane::ReadCounters() const {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Unavailable("count the CPUs", cpus);
  std::vector<nlb_counter> per_cpu(static_cast<size_t>(cpus));
  const auto sum_of = [&](int fd, uint32_t key, nlb_counter* sum) {
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) return false;
    *sum = nlb_counter{};
    for (const nlb_counter& c : per_cpu) {
      sum->packets += c.packets;
      sum->bytes += c.bytes;
    }
    return true;
  };
  Counters out;
  for (uint32_t slot = 0; slot < NLB_COUNTER_SLOTS; ++slot) {
    nlb_counter sum{};
    if (!sum_of(counters_fd_, slot, &sum)) return Unavailable("read nlb_counters", errno);
    if (slot < NLB_REASON_COUNT) {
      out.by_reason[slot] = sum;
    } else if (slot >= NLB_COUNTER_PARSE_BASE) {
      out.malformed[slot - NLB_COUNTER_PARSE_BASE] = sum.packets;
    }
  }
  for (size_t i = 0; i < rule_slots_.slots().size(); ++i) {
    const uint8_t slot = rule_slots_.slots()[i];
    Counters::Rule& r = out.by_rule.emplace_back();
    r.name = rule_slots_.names()[i];
    if (!sum_of(rule_counters_fd_, nlb_rule_counter_key(slot, 1), &r.accepted) ||
        !sum_of(rule_counters_fd_, nlb_rule_counter_key(slot, 0), &r.dropped)) {
      return Unavailable("read nlb_rule_counters", errno);
    }
  }
  return out;
}

Status BpfPlane::ZeroRuleSlots(const std::vector<uint8_t>& slots) {
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Unavailable("count the CPUs", cpus);
  const std::vector<nlb_counter> zero(static_cast<size_t>(cpus));
  for (uint8_t slot : slots) {
    for (uint32_t accepted = 0; accepted < 2; ++accepted) {
      const uint32_t key = nlb_rule_counter_key(slot, accepted);
      if (bpf_map_update_elem(rule_counters_fd_, &key, zero.data(), BPF_ANY) != 0) {
        return Unavailable("zero nlb_rule_counters", errno);
      }
    }
  }
  return Status::Ok();
}

Result<BpfPlane::ProgramInfo> BpfPlane::Info() const {
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(program_fd_, &info, &length) != 0) {
    return Unavailable("read the program's info", errno);
  }
  ProgramInfo out;
  out.xlated_instructions = info.xlated_prog_len / 8;
  out.jited_bytes = info.jited_prog_len;
  out.verified_instructions = info.verified_insns;
  return out;
}

}  // namespace nlb::agent
