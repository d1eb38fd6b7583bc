// FlowHash is inline (common/flow_hash.h over common/bpf/flow_key_layout.h); what is left here is
// the proof that the C++ enums and the shared header's numbers, which the BPF program sees, agree.
#include "common/flow_hash.h"

namespace nlb {

static_assert(static_cast<int>(Affinity::kNone) == NLB_AFFINITY_NONE);
static_assert(static_cast<int>(Affinity::kSingle) == NLB_AFFINITY_SINGLE);
static_assert(static_cast<int>(Affinity::kNetwork) == NLB_AFFINITY_NETWORK);
static_assert(static_cast<int>(Protocol::kTcp) == NLB_PROTOCOL_TCP);
static_assert(static_cast<int>(Protocol::kUdp) == NLB_PROTOCOL_UDP);
static_assert(static_cast<int>(Protocol::kBoth) == NLB_PROTOCOL_BOTH);
static_assert(static_cast<int>(FilteringMode::kMultipleHost) == NLB_MODE_MULTIPLE);
static_assert(static_cast<int>(FilteringMode::kSingleHost) == NLB_MODE_SINGLE);
static_assert(static_cast<int>(FilteringMode::kDisabled) == NLB_MODE_DISABLED);
static_assert(kDefaultIpv6NetworkPrefix <= 128);

}  // namespace nlb
