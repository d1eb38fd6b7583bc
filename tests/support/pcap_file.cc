#include "tests/support/pcap_file.h"

#include <pcap/pcap.h>

#include <memory>

namespace nlb::test {

Result<std::vector<std::vector<uint8_t>>> ReadPcapFrames(const std::string& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  const std::unique_ptr<pcap_t, decltype(&pcap_close)> pcap(pcap_open_offline(path.c_str(), error),
                                                            &pcap_close);
  if (pcap == nullptr) return Status::Error(ErrorCode::kNotFound, path + ": " + error);
  if (pcap_datalink(pcap.get()) != DLT_EN10MB) {
    return Status::Error(ErrorCode::kInvalidArgument, path + ": not an Ethernet capture");
  }
  std::vector<std::vector<uint8_t>> frames;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int got = 0;
  while ((got = pcap_next_ex(pcap.get(), &header, &data)) == 1) {
    if (header->caplen != header->len) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           path + ": frame " + std::to_string(frames.size() + 1) + " holds " +
                               std::to_string(header->caplen) + " of its " +
                               std::to_string(header->len) +
                               " bytes (recorded with a snap length)");
    }
    frames.emplace_back(data, data + header->caplen);
  }
  if (got != PCAP_ERROR_BREAK) {
    return Status::Error(ErrorCode::kMalformed, path + ": " + pcap_geterr(pcap.get()));
  }
  return frames;
}

}  // namespace nlb::test
