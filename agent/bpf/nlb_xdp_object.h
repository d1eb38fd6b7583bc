// The compiled XDP program (agent/bpf/nlb_xdp.bpf.c), embedded at build time by
// agent/bpf/embed_object.cmake. Immutable; any thread.
#pragma once

#include <span>

namespace nlb::agent {

// The ELF object's bytes, for bpf_object__open_mem.
std::span<const unsigned char> NlbXdpObject();

}  // namespace nlb::agent
