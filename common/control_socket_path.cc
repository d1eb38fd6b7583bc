#include "common/control_socket_path.h"

namespace nlb {

std::string ControlSocketPath(std::string_view cluster_name, uint16_t host_id) {
  return std::string(kControlSocketDirectory) + "/" + std::string(cluster_name) + "-" +
         std::to_string(host_id) + ".sock";
}

}  // namespace nlb
