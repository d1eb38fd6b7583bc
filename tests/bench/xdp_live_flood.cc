// xdp_live_flood: the load generator of `datapath_bench.sh xdp-live`. Puts COUNT UDP/IPv4 frames
// at RATE packets/s into a veth as xdp_frames: it loads a small XDP program
// (xdp_live_flood.bpf.c) and runs it with BPF_PROG_TEST_RUN in live-frames mode
// (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18 or later). The program redirects every frame to IFACE,
// one end of a veth, so that its peer receives the frames through veth's ndo_xdp_xmit: the way
// a frame reaches a veth's native XDP hook without an skb and without a copy, as a NIC's driver
// hands XDP its buffer. (udp_flood's frames come from a socket through a bridge and reach the
// veth as skbs, which veth copies into a new buffer before XDP can run.) The peer takes
// xdp_frames only while it runs NAPI: an XDP program on it, GRO on (`ethtool -K IF gro on`), or
// threaded NAPI; otherwise the kernel drops every frame and nothing arrives.
//
// The frames are udp_flood's (flood_frame.h): to DST_MAC and VIP:PORT from SRC_IP and source
// ports 10000 .. 10000+FLOWS-1 in turn; the source MAC is IFACE's. Each test run sends up to
// kMaxPerRun frames (the slice of kSliceSeconds at RATE); the runs are paced like udp_flood's
// batches (sleep while ahead of RATE). COUNT bounds the frames, and the time: it stops at 1.5
// times COUNT/RATE (plus 0.2 s). Prints udp_flood's JSON line (StepMeter), plus the sender's
// own time per frame inside the test runs (sender_ns_per_frame) and its runs.
//
// Run it in the network namespace of IFACE, as root (CAP_BPF and CAP_NET_ADMIN), pinned to one
// CPU (its program counts flows per CPU).
//
// --redirect IN OUT: the other way to hand a veth xdp_frames, for kernels that refuse the
// live-frames mode (docs/benchmarks.md, "XDP fed xdp_frames"): attaches the same program
// natively to IN (one veth of the sender's path, e.g. the switch's end of the client's link),
// redirecting every frame it receives to OUT untouched, and exits; the program stays attached
// until IN goes or `ip link set dev IN xdpdrv off`. IN's veth copies each frame into an XDP
// buffer on the sender's side; OUT's peer then receives it as an xdp_frame.
//
// Usage: xdp_live_flood IFACE DST_MAC SRC_IP VIP PORT COUNT RATE FLOWS SNMP_FILE
//        xdp_live_flood --redirect IN OUT
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/bench/flood_frame.h"
#include "tests/bench/xdp_live_flood_object.h"

namespace {

using namespace nlb::bench;

// A run's frames go out in bursts of kBatch (the test run flushes its redirects once per
// batch); at most kMaxPerRun per run, so that a burst never outgrows the receiving veth's ring
// of 256 frames while the receiver keeps up on average: a loss then means the receiver is too
// slow, not that the sender's bursts are too big.
constexpr unsigned kBatch = 64;
constexpr long long kMaxPerRun = 128;
constexpr double kSliceSeconds = 0.001;

// xdp_live_flood.bpf.c's struct live_config.
struct LiveConfig {
  uint8_t header[42];
  uint16_t first_port;
  uint32_t flows;
  uint32_t ifindex;
};
static_assert(sizeof(LiveConfig) == 52);

struct Sender {
  bpf_object* object = nullptr;
  int program_fd = -1;
};

// Opens and loads the embedded program and writes its configuration (flows 0: redirect only);
// prints why not.
bool LoadSender(int flows, int ifindex, const uint8_t* frame, Sender& sender) {
  const std::span<const unsigned char> image = XdpLiveFloodObject();
  LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "xdp_live_flood");
  sender.object = bpf_object__open_mem(image.data(), image.size(), &options);
  if (sender.object == nullptr) {
    std::fprintf(stderr, "open the embedded BPF object: %s\n", std::strerror(errno));
    return false;
  }
  if (const int err = bpf_object__load(sender.object); err != 0) {
    std::fprintf(stderr, "load the XDP program: %s (root, or CAP_BPF and CAP_NET_ADMIN?)\n",
                 std::strerror(-err));
    return false;
  }
  bpf_program* program = bpf_object__find_program_by_name(sender.object, "xdp_live_send");
  bpf_map* config_map = bpf_object__find_map_by_name(sender.object, "xdp_live_config");
  if (program == nullptr || config_map == nullptr) {
    std::fprintf(stderr, "the embedded object lacks its program or map\n");
    return false;
  }
  sender.program_fd = bpf_program__fd(program);
  LiveConfig config{};
  if (frame != nullptr) std::memcpy(config.header, frame, sizeof(config.header));
  config.first_port = kFirstSourcePort;
  config.flows = static_cast<uint32_t>(flows);
  config.ifindex = static_cast<uint32_t>(ifindex);
  const uint32_t zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(config_map), &zero, &config, BPF_ANY) != 0) {
    std::fprintf(stderr, "write the program's configuration: %s\n", std::strerror(errno));
    return false;
  }
  return true;
}

// --redirect IN OUT; returns the exit status.
int AttachRedirect(const char* in, const char* out) {
  const int in_index = static_cast<int>(if_nametoindex(in));
  const int out_index = static_cast<int>(if_nametoindex(out));
  if (in_index == 0 || out_index == 0) {
    std::fprintf(stderr, "no interface '%s' in this network namespace\n", in_index == 0 ? in : out);
    return 64;
  }
  Sender sender;
  int status = LoadSender(0, out_index, nullptr, sender) ? 0 : 1;
  if (status == 0) {
    if (const int err = bpf_xdp_attach(in_index, sender.program_fd, XDP_FLAGS_DRV_MODE, nullptr);
        err != 0) {
      std::fprintf(stderr, "attach natively to %s: %s\n", in, std::strerror(-err));
      status = 1;
    } else {
      std::printf("%s: native XDP redirecting every frame to %s\n", in, out);
    }
  }
  bpf_object__close(sender.object);  // the attachment keeps the program
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--redirect") == 0) {
    if (argc != 4) {
      std::fprintf(stderr, "usage: %s --redirect IN OUT\n", argv[0]);
      return 64;
    }
    return AttachRedirect(argv[2], argv[3]);
  }
  FloodArgs args;
  if (!ParseFloodArgs(argc, argv, args)) return 64;
  const int ifindex = static_cast<int>(if_nametoindex(args.iface.c_str()));
  if (ifindex == 0) {
    std::fprintf(stderr, "no interface '%s' in this network namespace\n", args.iface.c_str());
    return 64;
  }
  uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  InterfaceMac(args.iface, src_mac);
  uint8_t frame[kFrameBytes];
  BuildUdpFrame(frame, args.dst_mac, src_mac, args.src, args.vip, kFirstSourcePort, args.port);

  Sender sender;
  if (!LoadSender(args.flows, ifindex, frame, sender)) {
    bpf_object__close(sender.object);
    return 1;
  }

  const double duration = static_cast<double>(args.count) / args.rate;
  const long long per_run =
      std::clamp(static_cast<long long>(args.rate * kSliceSeconds), 1LL, kMaxPerRun);
  StepMeter meter(args.snmp, duration);
  const double start = meter.start();
  const double deadline = start + duration * 1.5 + 0.2;
  long long sent = 0, runs = 0;
  double in_runs = 0;
  int status = 0;
  while (sent < args.count) {
    double now = 0;
    if (!Paced(start, sent, args.rate, deadline, &now)) break;
    meter.Sample(now);
    const auto n = static_cast<unsigned>(std::min(per_run, args.count - sent));
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
                .repeat = static_cast<int>(n), .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
                .batch_size = std::min(n, kBatch));
    if (bpf_prog_test_run_opts(sender.program_fd, &run) != 0) {
      const int e = errno;
      std::fprintf(stderr, "BPF_PROG_TEST_RUN in live-frames mode: %s%s\n", std::strerror(e),
                   e == EINVAL ? " (BPF_F_TEST_XDP_LIVE_FRAMES needs Linux 5.18 or later)" : "");
      status = 1;
      break;
    }
    in_runs += Now() - now;
    sent += n;
    ++runs;
  }
  char extra[96];
  std::snprintf(extra, sizeof(extra), ",\"sender_ns_per_frame\":%.0f,\"sender_runs\":%lld",
                sent > 0 ? in_runs * 1e9 / static_cast<double>(sent) : 0.0, runs);
  meter.Print(sent, 0, extra);
  bpf_object__close(sender.object);
  return status;
}
