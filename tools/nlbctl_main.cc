// nlbctl: controls nlb agents. Everything but argv handling is in tools/nlbctl.cc.
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/nlbctl.h"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return nlb::RunNlbctl(args, std::cout, std::cerr);
}
