#include "agent/instance_lock.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace nlb::agent {

Result<InstanceLock> InstanceLock::Acquire(const std::string& cluster_name) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::Error(ErrorCode::kUnavailable, std::string("socket: ") + strerror(errno));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string name = "nlbd/" + cluster_name;
  // sun_path[0] == '\0' makes the name abstract.
  const size_t length = std::min(name.size(), sizeof(addr.sun_path) - 1);
  std::memcpy(addr.sun_path + 1, name.data(), length);
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0) {
    const int err = errno;
    close(fd);
    if (err == EADDRINUSE) {
      return Status::Error(ErrorCode::kAlreadyExists,
                           "another nlbd already runs cluster '" + cluster_name +
                               "' on this host (network namespace)");
    }
    return Status::Error(ErrorCode::kUnavailable, std::string("bind lock: ") + strerror(err));
  }
  return InstanceLock(fd);
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace nlb::agent
