#include "agent/kernel_setting.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/log.h"

namespace nlb::agent {
namespace {

std::string PathOf(const std::string& key) { return "/proc/sys/" + key; }

Status Write(const std::string& key, const std::string& value) {
  std::ofstream out(PathOf(key));
  out << value << '\n';
  out.flush();
  if (!out) {
    return Status::Error(ErrorCode::kUnavailable, "cannot write " + value + " to " +
                                                      PathOf(key) + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> KernelSetting::Read(const std::string& key) {
  std::ifstream in(PathOf(key));
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return Status::Error(ErrorCode::kNotFound,
                         "cannot read " + PathOf(key) + ": " + std::strerror(errno));
  }
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

Result<KernelSetting> KernelSetting::Apply(const std::string& key, const std::string& value) {
  Result<std::string> old = Read(key);
  if (!old.ok()) return old.status();
  if (Status s = Write(key, value); !s.ok()) return s;
  return KernelSetting(key, std::move(old).value());
}

KernelSetting::KernelSetting(KernelSetting&& other) noexcept
    : key_(std::move(other.key_)), old_value_(std::move(other.old_value_)),
      active_(other.active_) {
  other.active_ = false;
}

KernelSetting::~KernelSetting() { Restore(); }

void KernelSetting::Restore() {
  if (!active_) return;
  active_ = false;
  if (Status s = Write(key_, old_value_); !s.ok()) LogWarning("sysctl", s.message());
}

}  // namespace nlb::agent
