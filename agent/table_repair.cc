#include "agent/table_repair.h"

namespace nlb::agent {

void RepairTable(KernelJobs& worker, KernelProgrammer& table, std::shared_ptr<bool> alive,
                 KernelStats& stats, std::function<void(const std::string&)> on_event,
                 const std::string& why) {
  auto repaired = std::make_shared<bool>(false);
  worker.Submit(
      [&table, repaired] {
        auto intact = table.Intact();
        if (intact.ok() && intact.value()) return Status::Ok();
        *repaired = true;
        return table.Repair();
      },
      [&stats, on_event = std::move(on_event), why, repaired, alive = std::move(alive)](
          Status s, std::chrono::microseconds took) {
        if (!*alive) return;
        if (!s.ok()) {
          ++stats.errors;
          on_event("repairing nlbd's nftables table failed (" + why + "): " + s.message());
          return;
        }
        if (!*repaired) return;
        ++stats.repairs;
        stats.last_repair = took;
        on_event("repaired the kernel state in " + std::to_string(took.count() / 1000) +
                 " ms: nlbd's nftables table had been removed or altered (" + why + ")");
      });
}

}  // namespace nlb::agent
