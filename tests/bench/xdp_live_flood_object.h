// The compiled sender program (tests/bench/xdp_live_flood.bpf.c), embedded at build time by
// agent/bpf/embed_object.cmake. Immutable; any thread.
#pragma once

#include <span>

namespace nlb::bench {

// The ELF object's bytes, for bpf_object__open_mem.
std::span<const unsigned char> XdpLiveFloodObject();

}  // namespace nlb::bench
