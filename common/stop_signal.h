#pragma once

#include <signal.h>

namespace tollgate {

// How a service's main() waits for its end: block SIGTERM and SIGINT in the
// main thread before any other thread starts (threads inherit the mask, so
// only sigwait sees them), serve, then Wait() and drain.
//
//   tollgate::StopSignals stop;        // first thing in main()
//   ... start the server ...
//   int signal_number = stop.Wait();   // SIGTERM or SIGINT
class StopSignals final {
 public:
  StopSignals() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  }
  // Blocks until SIGTERM or SIGINT arrives; returns its number.
  int Wait() {
    int signal_number = 0;
    sigwait(&signals_, &signal_number);
    return signal_number;
  }

 private:
  sigset_t signals_;
};

}  // namespace tollgate
