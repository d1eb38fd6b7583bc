// Status and Result<T>: the one error vocabulary of nlb, used at every module boundary.
//
// A Status is either ok or an error code plus a message a person can act on ("port_rules[2].ports:
// 70000 is not a port (0-65535)"). Result<T> carries a value or a non-ok Status. Both are cheap to
// move, [[nodiscard]], and safe to use from any thread (they are plain values).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace nlb {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong (bad YAML, bad CLI argument, bad field)
  kMalformed,        // bytes from the wire do not parse
  kAuthentication,   // HMAC or credential check failed
  kNotFound,         // a named thing (file, interface, rule, host) does not exist
  kAlreadyExists,    // a named thing is taken (host id, lock, socket)
  kPermission,       // file modes, privileges
  kUnavailable,      // unreachable host, socket error, timed out
  kInternal,         // a broken invariant of ours
};

std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message) {
    return Status(code, std::move(message));
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string ToString() const;

 private:
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // REQUIRES: !status.ok()
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace nlb
