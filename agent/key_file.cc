#include "agent/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace nlb::agent {

Result<std::vector<uint8_t>> LoadKeyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const ErrorCode code = errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kPermission;
    return Status::Error(code, "key file " + path + ": " + std::strerror(errno));
  }
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::Error(ErrorCode::kInvalidArgument, "key file " + path + ": not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::Error(ErrorCode::kPermission,
                         "key file " + path + ": mode " + mode +
                             " lets others read it; run: chmod 600 " + path);
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[4096];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::strerror(errno);
      close(fd);
      return Status::Error(ErrorCode::kUnavailable, "key file " + path + ": " + reason);
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (bytes.size() > 65536) {
      close(fd);
      return Status::Error(ErrorCode::kInvalidArgument,
                           "key file " + path + ": larger than 64 KiB; is this the right file?");
    }
  }
  close(fd);
  auto is_space = [](uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!bytes.empty() && is_space(bytes.back())) bytes.pop_back();
  size_t start = 0;
  while (start < bytes.size() && is_space(bytes[start])) ++start;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(start));
  if (bytes.size() < kMinimumKeyBytes) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "key file " + path + ": holds " + std::to_string(bytes.size()) +
                             " bytes; at least " + std::to_string(kMinimumKeyBytes) +
                             " are needed (make one with: umask 077; head -c 32 /dev/urandom | base64 > " +
                             path + ")");
  }
  return bytes;
}

}  // namespace nlb::agent
