// ReadPcapFrames: every frame of a pcap file (Ethernet link type), read with libpcap
// (pcap_open_offline), for tests that replay recorded traffic through the data path
// (tests/agent/bpf_replay_test.cc). A frame captured shorter than it was on the wire (a snap
// length) is an error: a replay must see what the wire carried. Single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace nlb::test {

// kNotFound when the file cannot be opened; kInvalidArgument for another link type than
// Ethernet or a frame cut by the snap length; kMalformed when libpcap stops on a broken record.
[[nodiscard]] Result<std::vector<std::vector<uint8_t>>> ReadPcapFrames(const std::string& path);

}  // namespace nlb::test
