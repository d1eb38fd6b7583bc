// udp_flood: the load generator of tests/bench/datapath_bench.sh. Sends COUNT UDP/IPv4 frames at
// RATE packets/s from one client namespace straight onto the wire (AF_PACKET, prebuilt frames,
// sendmmsg in batches), to a destination MAC and VIP, from SOURCE and source ports cycling over
// FLOWS values, so the frames hash over many buckets and the same flows are sent on every run.
//
// While sending it samples a receiver's UDP counters (InDatagrams + RcvbufErrors from
// /proc/PID/net/snmp of a process in the receiving namespace) and prints one JSON line with the
// rate it achieved and the receiver's steady-state rate: the counter's growth between 25% and 100%
// of the sending time. The steady window leaves out the start, and a capture ring that fills
// while its reader falls behind cannot make a slow reader look fast.
//
// COUNT bounds the frames, and the time: it stops at 1.5 times COUNT/RATE (plus 0.2 s) however
// many it has sent by then.
//
// Usage: udp_flood IFACE DST_MAC SRC_IP VIP PORT COUNT RATE FLOWS SNMP_FILE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kBatch = 64;
constexpr size_t kFrameBytes = 14 + 20 + 8 + 18;  // 60: the Ethernet minimum without FCS

uint16_t Checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Datagrams that reached the UDP layer of the receiving namespace (delivered or refused for
// lack of buffer): both mean the packet made it through the filter under test.
long long ReadUdpReached(const std::string& path) {
  std::ifstream in(path);
  std::string header, values;
  while (std::getline(in, header) && std::getline(in, values)) {
    if (header.rfind("Udp:", 0) != 0) continue;
    std::istringstream hn(header), vn(values);
    std::string name, value;
    long long total = 0;
    while (hn >> name && vn >> value) {
      if (name == "InDatagrams" || name == "RcvbufErrors") total += std::stoll(value);
    }
    return total;
  }
  return -1;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr, "usage: %s IFACE DST_MAC SRC_IP VIP PORT COUNT RATE FLOWS SNMP_FILE\n",
                 argv[0]);
    return 64;
  }
  const char* iface = argv[1];
  uint8_t dst_mac[6];
  if (std::sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst_mac[0], &dst_mac[1],
                  &dst_mac[2], &dst_mac[3], &dst_mac[4], &dst_mac[5]) != 6) {
    std::fprintf(stderr, "bad MAC %s\n", argv[2]);
    return 64;
  }
  in_addr src{}, vip{};
  if (inet_pton(AF_INET, argv[3], &src) != 1 || inet_pton(AF_INET, argv[4], &vip) != 1) {
    std::fprintf(stderr, "bad address\n");
    return 64;
  }
  const uint16_t port = static_cast<uint16_t>(std::atoi(argv[5]));
  const long long count = std::atoll(argv[6]);
  const double rate = std::atof(argv[7]);
  const int flows = std::atoi(argv[8]);
  const std::string snmp = argv[9];
  if (count <= 0 || count > 20000000 || rate <= 0 || flows <= 0 || flows > 60000) {
    std::fprintf(stderr, "COUNT 1-20000000, RATE > 0, FLOWS 1-60000\n");
    return 64;
  }

  const int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) { std::perror("socket"); return 1; }
  const int ifindex = static_cast<int>(if_nametoindex(iface));
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::memcpy(to.sll_addr, dst_mac, 6);
  if (ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    std::perror("bind");
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  {
    std::ifstream a("/sys/class/net/" + std::string(iface) + "/address");
    std::string text;
    a >> text;
    std::sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &src_mac[0], &src_mac[1],
                &src_mac[2], &src_mac[3], &src_mac[4], &src_mac[5]);
  }

  // One prebuilt frame per flow; UDP checksum 0 (none), as IPv4 allows.
  std::vector<uint8_t> frames(static_cast<size_t>(flows) * kFrameBytes);
  for (int f = 0; f < flows; ++f) {
    uint8_t* p = &frames[static_cast<size_t>(f) * kFrameBytes];
    std::memcpy(p, dst_mac, 6);
    std::memcpy(p + 6, src_mac, 6);
    p[12] = 0x08;
    p[13] = 0x00;
    uint8_t* ip = p + 14;
    const uint16_t total = 20 + 8 + 18;
    ip[0] = 0x45;
    ip[2] = total >> 8;
    ip[3] = total & 0xff;
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, &src, 4);
    std::memcpy(ip + 16, &vip, 4);
    const uint16_t c = Checksum(ip, 20);
    ip[10] = c >> 8;
    ip[11] = c & 0xff;
    uint8_t* udp = ip + 20;
    const uint16_t sport = static_cast<uint16_t>(10000 + f);
    udp[0] = sport >> 8;
    udp[1] = sport & 0xff;
    udp[2] = port >> 8;
    udp[3] = port & 0xff;
    udp[4] = 0;
    udp[5] = 8 + 18;
  }

  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  const long long reached_start = ReadUdpReached(snmp);
  const double start = Now();
  const double duration = static_cast<double>(count) / rate;
  long long sent = 0, errors = 0, next_flow = 0;
  long long sample_at_quarter = -1;
  double quarter_time = 0;
  // A sender slower than RATE stops at 1.5x the planned time: every step is bounded in time too.
  const double deadline = start + duration * 1.5 + 0.2;
  while (sent < count) {
    const double due = start + static_cast<double>(sent) / rate;
    double now = Now();
    if (now > deadline) break;
    if (now < due) {
      const double wait = due - now;
      if (wait > 0.0002) {
        timespec ts{0, static_cast<long>(wait * 1e9)};
        nanosleep(&ts, nullptr);
      }
      continue;
    }
    if (sample_at_quarter < 0 && now - start >= duration / 4) {
      sample_at_quarter = ReadUdpReached(snmp);
      quarter_time = now;
    }
    const int n = static_cast<int>(std::min<long long>(kBatch, count - sent));
    for (int i = 0; i < n; ++i) {
      iovs[i].iov_base = &frames[static_cast<size_t>(next_flow) * kFrameBytes];
      iovs[i].iov_len = kFrameBytes;
      next_flow = next_flow + 1 == flows ? 0 : next_flow + 1;
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
  const double end = Now();
  const long long reached_end = ReadUdpReached(snmp);
  close(fd);
  const double steady =
      sample_at_quarter >= 0 && end > quarter_time
          ? static_cast<double>(reached_end - sample_at_quarter) / (end - quarter_time)
          : 0;
  std::printf(
      "{\"sent\":%lld,\"seconds\":%.4f,\"offered_pps\":%.0f,\"send_errors\":%lld,"
      "\"reached_during\":%lld,\"steady_reached_pps\":%.0f,\"reached_start\":%lld}\n",
      sent, end - start, static_cast<double>(sent) / (end - start), errors,
      reached_end - reached_start, steady, reached_start);
  return 0;
}
