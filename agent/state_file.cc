#include "agent/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nlb::agent {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  const int e = errno;
  return Status::Error(e == EACCES || e == EPERM ? ErrorCode::kPermission : ErrorCode::kUnavailable,
                       what + " " + path + ": " + std::strerror(e));
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

std::string StateFile::DefaultPath(const std::string& cluster_name, uint16_t host_id) {
  return "/var/lib/nlb/state-" + cluster_name + "-" + std::to_string(host_id);
}

Result<std::optional<OperatorState>> StateFile::Load() const {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<OperatorState>();
    return Errno("cannot open state file", path_);
  }
  // One byte more than the largest valid file, so that a larger one is refused, not cut.
  std::string text(kMaxOperatorStateBytes + 1, '\0');
  size_t have = 0;
  while (have < text.size()) {
    const ssize_t n = ::read(fd, text.data() + have, text.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot read state file", path_);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(have);
  auto decoded = DecodeOperatorState(text);
  if (!decoded.ok()) {
    return Status::Error(ErrorCode::kMalformed,
                         "state file " + path_ + ": " + decoded.status().message());
  }
  return std::optional<OperatorState>(std::move(decoded.value()));
}

Status StateFile::Save(const OperatorState& state) const {
  const std::string dir = DirectoryOf(path_);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create the state directory", dir);
  }
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Errno("cannot write state file", tmp);
  const std::string text = EncodeOperatorState(state);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot write state file", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("cannot sync state file", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    Status s = Errno("cannot replace state file", path_);
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename itself is durable only once the directory is.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace nlb::agent
