#include "config/cluster_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nlb {
namespace {

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Status ErrnoStatus(const std::string& path, std::string_view what) {
  const int error = errno;
  const ErrorCode code = error == ENOENT                       ? ErrorCode::kNotFound
                         : (error == EACCES || error == EPERM) ? ErrorCode::kPermission
                                                               : ErrorCode::kUnavailable;
  return Status::Error(
      code, "cluster key " + path + ": " + std::string(what) + ": " + std::strerror(error));
}

}  // namespace

Result<std::string> ReadClusterKey(const std::string& path) {
  // Open first and check the open file, so the checks and the read see the same file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Status::Error(ErrorCode::kNotFound, "cluster key " + path +
                                                     " does not exist; make it once with: "
                                                     "nlbctl keygen " +
                                                     path + " (then copy it to every host)");
    }
    return ErrnoStatus(path, "cannot open");
  }
  struct stat st {};
  std::string key;
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = ErrnoStatus(path, "cannot stat");
  } else if (!S_ISREG(st.st_mode)) {
    status =
        Status::Error(ErrorCode::kInvalidArgument, "cluster key " + path + ": not a regular file");
  } else if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    status = Status::Error(ErrorCode::kPermission,
                           "cluster key " + path + ": owned by uid " + std::to_string(st.st_uid) +
                               ", so that user can read or replace the key; run: chown root:root " +
                               path);
  } else if ((st.st_mode & 077) != 0) {
    status = Status::Error(ErrorCode::kPermission,
                           "cluster key " + path + ": mode " + ModeText(st.st_mode) +
                               " lets other users read the key; run: chmod 600 " + path);
  } else if (st.st_size < static_cast<off_t>(kMinClusterKeyBytes) ||
             st.st_size > static_cast<off_t>(kMaxClusterKeyBytes)) {
    status = Status::Error(ErrorCode::kInvalidArgument,
                           "cluster key " + path + ": " + std::to_string(st.st_size) +
                               " bytes; a key has 16-4096 bytes (e.g. openssl rand -hex 32)");
  } else {
    key.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < key.size()) {
      const ssize_t n = ::read(fd, key.data() + done, key.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        status = n < 0 ? ErrnoStatus(path, "read failed")
                       : Status::Error(ErrorCode::kUnavailable,
                                       "cluster key " + path + ": changed while being read");
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return key;
}

}  // namespace nlb
