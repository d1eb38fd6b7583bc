// DrainedRounds: what FastPathSwitch needs of the data path after a kernel cut: word that every
// frame captured before the request has been decided (agent/data_path.h implements it; tests
// fake it on simulated time).
#pragma once

#include <functional>

namespace nlb::agent {

class DrainedRounds {
 public:
  virtual ~DrainedRounds() = default;
  // Calls done (possibly on another thread) once every frame captured before this call has been
  // decided. One request at a time: a new one replaces the last. Loop thread.
  virtual void RequestDrainedRound(std::function<void()> done) = 0;
};

}  // namespace nlb::agent
