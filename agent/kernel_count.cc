#include "agent/kernel_count.h"

namespace nlb::agent {

void KernelCount::Refresh(std::chrono::milliseconds max_age) {
  if (reading_) return;
  const auto now = clock_.Now();
  if (read_at_ && now - *read_at_ < max_age) return;
  reading_ = true;
  auto value = std::make_shared<uint64_t>(0);
  worker_.Submit(
      // Not `this`: the worker may run the job after this object is gone (the programmer is not).
      [&kernel = kernel_, value] {
        auto read = kernel.DeliveredPackets();
        if (!read.ok()) return read.status();
        *value = read.value();
        return Status::Ok();
      },
      [this, value, alive = alive_](Status s, std::chrono::microseconds) {
        if (!*alive) return;
        reading_ = false;
        read_at_ = clock_.Now();
        ++reads_;
        if (s.ok()) {
          packets_ = *value;
        } else {
          packets_.reset();
          ++read_errors_;
        }
      });
}

std::optional<std::chrono::milliseconds> KernelCount::age() const {
  if (!read_at_) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - *read_at_);
}

}  // namespace nlb::agent
