#include "agent/capture_switch.h"

#include "agent/table_repair.h"

namespace nlb::agent {

void CaptureSwitch::CheckTable(const std::string& why) {
  RepairTable(worker_, table_, alive_, stats_, on_event_, why);
}

}  // namespace nlb::agent
