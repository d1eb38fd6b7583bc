// udp_flood: the load generator of tests/bench/datapath_bench.sh. Sends COUNT UDP/IPv4 frames at
// RATE packets/s from one client namespace straight onto the wire (AF_PACKET, prebuilt frames,
// sendmmsg in batches), to a destination MAC and VIP, from SOURCE and source ports cycling over
// FLOWS values, so the frames hash over many buckets and the same flows are sent on every run.
//
// While sending it samples a receiver's UDP counters (InDatagrams + RcvbufErrors from
// /proc/PID/net/snmp of a process in the receiving namespace) and prints one JSON line with the
// rate it achieved and the receiver's steady-state rate (flood_frame.h, StepMeter).
//
// COUNT bounds the frames, and the time: it stops at 1.5 times COUNT/RATE (plus 0.2 s) however
// many it has sent by then.
//
// Usage: udp_flood IFACE DST_MAC SRC_IP VIP PORT COUNT RATE FLOWS SNMP_FILE
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/bench/flood_frame.h"

namespace {

constexpr int kBatch = 64;

}  // namespace

int main(int argc, char** argv) {
  using namespace nlb::bench;
  FloodArgs args;
  if (!ParseFloodArgs(argc, argv, args)) return 64;

  const int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    std::perror("socket");
    return 1;
  }
  const int ifindex = static_cast<int>(if_nametoindex(args.iface.c_str()));
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, args.dst_mac, 6);
  if (ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    std::perror("bind");
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  InterfaceMac(args.iface, src_mac);

  // One prebuilt frame per flow.
  std::vector<uint8_t> frames(static_cast<size_t>(args.flows) * kFrameBytes);
  for (int f = 0; f < args.flows; ++f) {
    BuildUdpFrame(&frames[static_cast<size_t>(f) * kFrameBytes], args.dst_mac, src_mac, args.src,
                  args.vip, static_cast<uint16_t>(kFirstSourcePort + f), args.port);
  }

  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  const double duration = static_cast<double>(args.count) / args.rate;
  StepMeter meter(args.snmp, duration);
  const double start = meter.start();
  long long sent = 0, errors = 0, next_flow = 0;
  // A sender slower than RATE stops at 1.5x the planned time: every step is bounded in time too.
  const double deadline = start + duration * 1.5 + 0.2;
  while (sent < args.count) {
    double now = 0;
    if (!Paced(start, sent, args.rate, deadline, &now)) break;
    meter.Sample(now);
    const int n = static_cast<int>(std::min<long long>(kBatch, args.count - sent));
    for (int i = 0; i < n; ++i) {
      iovs[i].iov_base = &frames[static_cast<size_t>(next_flow) * kFrameBytes];
      iovs[i].iov_len = kFrameBytes;
      next_flow = next_flow + 1 == args.flows ? 0 : next_flow + 1;
      std::memset(&msgs[i], 0, sizeof(msgs[i]));
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int done = sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    if (done <= 0) {
      ++errors;
      if (errors > 1000000) break;
      continue;
    }
    sent += done;
  }
  close(fd);
  meter.Print(sent, errors, "");
  return 0;
}
