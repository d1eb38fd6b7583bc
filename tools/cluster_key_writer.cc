#include "tools/cluster_key_writer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace nlb {
namespace {

Status ErrnoStatus(const std::string& path, std::string_view what) {
  const int error = errno;
  const ErrorCode code = error == EEXIST                       ? ErrorCode::kAlreadyExists
                         : error == ENOENT || error == ENOTDIR ? ErrorCode::kNotFound
                         : error == EACCES || error == EPERM   ? ErrorCode::kPermission
                                                               : ErrorCode::kUnavailable;
  std::string message = "key file " + path + ": " + std::string(what) + ": " + std::strerror(error);
  if (error == EEXIST) {
    message +=
        "; nlbctl keygen --force " + path + " replaces it (then copy the new key to every host)";
  }
  return Status::Error(code, std::move(message));
}

Status WriteAll(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(path, "write failed");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return ErrnoStatus(path, "fsync failed");
  return Status::Ok();
}

}  // namespace

Status WriteNewClusterKey(const std::string& path, bool force) {
  std::array<unsigned char, kGeneratedKeyBytes> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Status::Error(ErrorCode::kInternal, "no random bytes from OpenSSL for a new key");
  }
  std::vector<unsigned char> encoded(4 * ((key.size() + 2) / 3) + 1);
  const int length = EVP_EncodeBlock(encoded.data(), key.data(), static_cast<int>(key.size()));
  const std::string text = std::string(encoded.begin(), encoded.begin() + length) + "\n";
  std::fill(key.begin(), key.end(), 0);

  if (!force) {
    // O_EXCL: never replace a key by accident; a cluster whose hosts disagree loses heartbeats.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ErrnoStatus(path, "cannot create");
    Status written = WriteAll(fd, text, path);
    if (written.ok() && ::fchmod(fd, 0600) != 0) written = ErrnoStatus(path, "cannot chmod");
    ::close(fd);
    if (!written.ok()) ::unlink(path.c_str());
    return written;
  }
  // A temporary file beside it, renamed over it: readers see the old key or the new one.
  std::string temporary = path + ".XXXXXX";
  const int fd = ::mkstemp(temporary.data());  // mode 0600
  if (fd < 0) return ErrnoStatus(path, "cannot create a temporary file beside it");
  Status written = WriteAll(fd, text, temporary);
  if (written.ok() && ::fchmod(fd, 0600) != 0) written = ErrnoStatus(temporary, "cannot chmod");
  ::close(fd);
  if (written.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    written = ErrnoStatus(path, "cannot replace");
  }
  if (!written.ok()) ::unlink(temporary.c_str());
  return written;
}

}  // namespace nlb
