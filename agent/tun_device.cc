#include "agent/tun_device.h"

#include <fcntl.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/log.h"

namespace nlb::agent {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

Status BringUp(const std::string& name) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::Error(ErrorCode::kUnavailable, Errno("socket"));
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int rc = ioctl(s, SIOCGIFFLAGS, &request);
  if (rc == 0) {
    request.ifr_flags |= IFF_UP;
    rc = ioctl(s, SIOCSIFFLAGS, &request);
  }
  const int saved = errno;
  close(s);
  errno = saved;
  if (rc != 0) return Status::Error(ErrorCode::kUnavailable, Errno("bringing up " + name));
  return Status::Ok();
}

void PutAttribute(nlmsghdr* message, uint16_t type, const void* data, size_t length) {
  auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(message) +
                                              NLMSG_ALIGN(message->nlmsg_len));
  attribute->rta_type = type;
  attribute->rta_len = static_cast<uint16_t>(RTA_LENGTH(length));
  std::memcpy(RTA_DATA(attribute), data, length);
  message->nlmsg_len = NLMSG_ALIGN(message->nlmsg_len) + RTA_ALIGN(attribute->rta_len);
}

// RTM_NEWADDR through rtnetlink, waiting for the kernel's acknowledgement.
Status AddAddress(uint32_t index, const IpAddress& vip, const std::string& device) {
  struct {
    nlmsghdr header;
    ifaddrmsg address;
    char attributes[64];
  } request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  request.header.nlmsg_type = RTM_NEWADDR;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  request.header.nlmsg_seq = 1;
  request.address.ifa_family = vip.is_v4() ? AF_INET : AF_INET6;
  request.address.ifa_prefixlen = static_cast<uint8_t>(vip.size() * 8);
  // Every host holds the VIP: duplicate address detection would only ever fail.
  request.address.ifa_flags = vip.is_v6() ? IFA_F_NODAD : 0;
  request.address.ifa_scope = RT_SCOPE_UNIVERSE;
  request.address.ifa_index = index;
  PutAttribute(&request.header, IFA_LOCAL, vip.bytes.data(), vip.size());
  PutAttribute(&request.header, IFA_ADDRESS, vip.bytes.data(), vip.size());

  const int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return Status::Error(ErrorCode::kUnavailable, Errno("netlink socket"));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  Status result = Status::Ok();
  if (sendto(s, &request, request.header.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof(kernel)) < 0) {
    result = Status::Error(ErrorCode::kUnavailable, Errno("netlink send"));
  } else {
    alignas(nlmsghdr) char reply[1024];
    const ssize_t n = recv(s, reply, sizeof(reply), 0);
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
    if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr)))) {
      result = Status::Error(ErrorCode::kUnavailable, Errno("netlink reply"));
    } else if (header->nlmsg_type == NLMSG_ERROR) {
      const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
      if (error->error != 0) {
        result = Status::Error(ErrorCode::kUnavailable,
                               "adding " + vip.ToString() + " to " + device + ": " +
                                   std::strerror(-error->error));
      }
    }
  }
  close(s);
  return result;
}

}  // namespace

Result<std::unique_ptr<TunDevice>> TunDevice::Create(const TunOptions& options) {
  if (options.name.empty() || options.name.size() >= IFNAMSIZ) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "TUN device name '" + options.name + "' must be 1-15 characters");
  }
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::Error(ErrorCode::kUnavailable, Errno("open /dev/net/tun"));
  ifreq request{};
  request.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(request.ifr_name, options.name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &request) != 0) {
    const ErrorCode code = errno == EBUSY ? ErrorCode::kAlreadyExists : ErrorCode::kUnavailable;
    const Status s = Status::Error(code, Errno("creating TUN device " + options.name));
    close(fd);
    return s;
  }
  // Owns fd from here on: every early return below closes it and the device vanishes.
  std::unique_ptr<TunDevice> tun(new TunDevice(fd, request.ifr_name, 0));
  tun->index_ = if_nametoindex(tun->name_.c_str());

  // rp_filter first: a packet written before it would be dropped as a martian.
  auto rp = KernelSetting::Apply("net/ipv4/conf/" + tun->name_ + "/rp_filter", "0");
  if (!rp.ok()) return rp.status();
  tun->settings_.push_back(std::move(rp).value());
  // The effective value is max(all, device): a strict "all" defeats the device's 0.
  auto all = KernelSetting::Read("net/ipv4/conf/all/rp_filter");
  if (all.ok() && all.value() == "1") {
    LogWarning("tun", "net.ipv4.conf.all.rp_filter is 1 (strict): owned packets arriving on " +
                          tun->name_ + " will be dropped; set it to 0 or 2");
  }
  for (const char* setting : {"arp_ignore=1", "arp_announce=2"}) {
    const std::string text = setting;
    const size_t eq = text.find('=');
    auto applied = KernelSetting::Apply(
        "net/ipv4/conf/" + options.cluster_interface + "/" + text.substr(0, eq),
        text.substr(eq + 1));
    if (!applied.ok()) return applied.status();
    tun->settings_.push_back(std::move(applied).value());
  }
  if (Status s = BringUp(tun->name_); !s.ok()) return s;
  for (const IpAddress& vip : options.vips) {
    if (Status s = AddAddress(tun->index_, vip, tun->name_); !s.ok()) return s;
  }
  return tun;
}

TunDevice::~TunDevice() {
  for (KernelSetting& setting : settings_) setting.Restore();
  close(fd_);
}

bool TunDevice::Write(std::span<const uint8_t> ip_packet) const {
  return write(fd_, ip_packet.data(), ip_packet.size()) == static_cast<ssize_t>(ip_packet.size());
}

}  // namespace nlb::agent
