//===- Stats.h - timings and the one statistics line -------------*- C++ -*-===//
//
// A monotonic stopwatch, the process's peak memory, and the llama.cpp-like
// line printed to stderr after a run, whose format scripts may parse.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_STATS_H
#define LLAMAC_RUNTIME_STATS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace llamac::rt {

class Stopwatch {
public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

private:
  std::chrono::steady_clock::time_point start_;
};

struct RunStats {
  int64_t promptTokens = 0;
  int64_t generatedTokens = 0; // sampled, a final EOS included
  double loadSeconds = 0;      // finding, checking and mapping the payload
  double prefillSeconds = 0;   // processing the prompt
  double decodeSeconds = 0;    // the generation loop: sampling and decode
  uint64_t seed = 0;
};

// Peak resident memory of the process so far (getrusage's ru_maxrss), MiB.
double peakMemoryMiB();

// "prompt 12 tokens, generated 20 tokens, prefill 123.4 tok/s, decode 56.7
// tok/s, peak memory 123.4 MiB, load 12 ms, seed 42" (no newline); a rate
// with no tokens or no measurable time is 0.0.
std::string statsLine(const RunStats &stats);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_STATS_H
