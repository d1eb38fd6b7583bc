// InstanceLock: at most one nlbd per cluster per host (network namespace).
//
// Held as a bound abstract Unix socket named "nlbd/<cluster>": abstract names are scoped to the
// network namespace, so hosts in separate namespaces of one machine each get their own, and the
// kernel releases the name when the process dies, so a crash leaves no stale lock behind.
#pragma once

#include <string>

#include "common/status.h"

namespace nlb::agent {

class InstanceLock {
 public:
  // Fails with kAlreadyExists when another nlbd holds the cluster in this network namespace.
  static Result<InstanceLock> Acquire(const std::string& cluster_name);
  InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  InstanceLock& operator=(InstanceLock&&) = delete;
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace nlb::agent
