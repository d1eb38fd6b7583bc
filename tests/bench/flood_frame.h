// The frames and the receiver's counter shared by the load generators of
// tests/bench/datapath_bench.sh: udp_flood (AF_PACKET from the client) and xdp_live_flood
// (xdp_frames from an XDP program run in live-frames mode). Both send the same 60-byte UDP/IPv4
// frames from the same source ports, so every phase of a run offers the same flows. Plain
// functions; any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace nlb::bench {

inline constexpr size_t kFrameBytes = 14 + 20 + 8 + 18;  // 60: the Ethernet minimum without FCS
inline constexpr uint16_t kFirstSourcePort = 10000;      // flow f sends from port 10000 + f

inline bool ParseMac(const std::string& text, uint8_t mac[6]) {
  char extra = 0;
  return std::sscanf(text.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%c", &mac[0], &mac[1], &mac[2],
                     &mac[3], &mac[4], &mac[5], &extra) == 6;
}

// Sets `mac` to IFACE's in this network namespace (sysfs); leaves it as it was if unreadable.
inline void InterfaceMac(const std::string& iface, uint8_t mac[6]) {
  std::ifstream a("/sys/class/net/" + iface + "/address");
  std::string text;
  a >> text;
  uint8_t read[6];
  if (ParseMac(text, read)) std::memcpy(mac, read, 6);
}

inline uint16_t Checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Writes kFrameBytes at `p`: Ethernet to `dst` from `src`, IPv4 from `from` (network order) to
// `to`, UDP from `sport` to `dport`, checksum 0 (none, as IPv4 allows), 18 zero bytes of payload.
inline void BuildUdpFrame(uint8_t* p, const uint8_t dst[6], const uint8_t src[6], uint32_t from,
                          uint32_t to, uint16_t sport, uint16_t dport) {
  std::memset(p, 0, kFrameBytes);
  std::memcpy(p, dst, 6);
  std::memcpy(p + 6, src, 6);
  p[12] = 0x08;
  p[13] = 0x00;
  uint8_t* ip = p + 14;
  const uint16_t total = 20 + 8 + 18;
  ip[0] = 0x45;
  ip[2] = total >> 8;
  ip[3] = total & 0xff;
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, &from, 4);
  std::memcpy(ip + 16, &to, 4);
  const uint16_t c = Checksum(ip, 20);
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  uint8_t* udp = ip + 20;
  udp[0] = sport >> 8;
  udp[1] = sport & 0xff;
  udp[2] = dport >> 8;
  udp[3] = dport & 0xff;
  udp[5] = 8 + 18;
}

// Datagrams that reached the UDP layer of the receiving namespace (delivered or refused for
// lack of buffer): both mean the packet made it through the filter under test. -1 if unreadable.
inline long long ReadUdpReached(const std::string& path) {
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

inline double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The command line both tools take: IFACE DST_MAC SRC_IP VIP PORT COUNT RATE FLOWS SNMP_FILE.
// Paced: waits until frame number `sent` is due at `rate` frames/s from `start`, napping when
// more than 0.2 ms early; sets *now and returns true when it is due, false once `deadline` has
// passed (every step is bounded in time as well as in count).
inline bool Paced(double start, long long sent, double rate, double deadline, double* now) {
  for (;;) {
    const double due = start + static_cast<double>(sent) / rate;
    *now = Now();
    if (*now > deadline) return false;
    if (*now >= due) return true;
    const double wait = due - *now;
    if (wait > 0.0002) {
      timespec ts{0, static_cast<long>(wait * 1e9)};
      nanosleep(&ts, nullptr);
    }
  }
}

struct FloodArgs {
  std::string iface;
  uint8_t dst_mac[6] = {};
  uint32_t src = 0, vip = 0;  // network order
  uint16_t port = 0;
  long long count = 0;
  double rate = 0;
  int flows = 0;
  std::string snmp;
};

// Fills `args` from argv, or says on stderr what is wrong (every bad argument) and returns false.
inline bool ParseFloodArgs(int argc, char** argv, FloodArgs& args) {
  if (argc != 10) {
    std::fprintf(stderr, "usage: %s IFACE DST_MAC SRC_IP VIP PORT COUNT RATE FLOWS SNMP_FILE\n",
                 argv[0]);
    return false;
  }
  bool ok = true;
  auto bad = [&ok](const char* what, const char* value) {
    std::fprintf(stderr, "bad %s '%s'\n", what, value);
    ok = false;
  };
  // A decimal number in [low, high] (a whole one unless `fraction`), or `bad`.
  auto number = [&bad](const char* what, const char* text, double low, double high,
                       bool fraction = false) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= low && v <= high) ||
        (!fraction && v != std::floor(v))) {
      bad(what, text);
      return 0.0;
    }
    return v;
  };
  args.iface = argv[1];
  if (args.iface.empty() || args.iface.size() >= 16) bad("IFACE", argv[1]);
  if (!ParseMac(argv[2], args.dst_mac)) bad("DST_MAC", argv[2]);
  in_addr a{};
  if (inet_pton(AF_INET, argv[3], &a) != 1) bad("SRC_IP", argv[3]);
  args.src = a.s_addr;
  if (inet_pton(AF_INET, argv[4], &a) != 1) bad("VIP", argv[4]);
  args.vip = a.s_addr;
  args.port = static_cast<uint16_t>(number("PORT (1-65535)", argv[5], 1, 65535));
  args.count = static_cast<long long>(number("COUNT (1-20000000)", argv[6], 1, 20000000));
  args.rate = number("RATE (packets/s, 1-20000000)", argv[7], 1, 20000000, true);
  args.flows = static_cast<int>(number("FLOWS (1-55535)", argv[8], 1, 65535 - kFirstSourcePort));
  args.snmp = argv[9];
  if (ok && ReadUdpReached(args.snmp) < 0) bad("SNMP_FILE (no Udp: lines)", argv[9]);
  return ok;
}

// One step's figures, as both tools print them (one JSON line; datapath_bench.sh's step reads
// it): the receiver's count at the start, at a quarter of the planned sending time and at the
// end. The steady rate is the growth from the quarter to the end: it leaves out the start, and
// a queue that fills while its reader falls behind cannot make a slow reader look fast.
class StepMeter {
 public:
  StepMeter(std::string snmp, double planned_seconds)
      : snmp_(std::move(snmp)),
        planned_(planned_seconds),
        reached_start_(ReadUdpReached(snmp_)),
        start_(Now()) {}

  double start() const { return start_; }
  // Call between sends: takes the quarter sample once its time has come.
  void Sample(double now) {
    if (quarter_ < 0 && now - start_ >= planned_ / 4) {
      quarter_ = ReadUdpReached(snmp_);
      quarter_time_ = now;
    }
  }
  // `extra`: more JSON members for the line (",\"name\":value..."), or "".
  void Print(long long sent, long long errors, const std::string& extra) const {
    const double end = Now();
    const long long reached_end = ReadUdpReached(snmp_);
    const double steady = quarter_ >= 0 && end > quarter_time_
                              ? static_cast<double>(reached_end - quarter_) / (end - quarter_time_)
                              : 0;
    std::printf(
        "{\"sent\":%lld,\"seconds\":%.4f,\"offered_pps\":%.0f,\"send_errors\":%lld,"
        "\"reached_during\":%lld,\"steady_reached_pps\":%.0f,\"reached_start\":%lld%s}\n",
        sent, end - start_, static_cast<double>(sent) / (end - start_), errors,
        reached_end - reached_start_, steady, reached_start_, extra.c_str());
  }

 private:
  std::string snmp_;
  double planned_;
  long long reached_start_;
  double start_;
  long long quarter_ = -1;
  double quarter_time_ = 0;
};

}  // namespace nlb::bench
