//===- Stats.cpp - timings and the one statistics line -----------*- C++ -*-===//
//
// Kept in one function so that the line's format, which scripts and tests
// parse, is written down in one place.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Stats.h"
#include "llamac/runtime/Status.h"

#include <cstdio>
#include <sys/resource.h>

namespace llamac::rt {

// VmHWM from /proc/self/status: the peak of this program's own address
// space. getrusage's ru_maxrss is the fallback only, because on Linux it
// also counts the process image before exec (a large parent that forked us).
double peakMemoryMiB() {
  if (FILE *status = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long long kib = -1;
    while (std::fgets(line, sizeof(line), status))
      if (std::sscanf(line, "VmHWM: %lld kB", &kib) == 1)
        break;
    std::fclose(status);
    if (kib >= 0)
      return double(kib) / 1024.0;
  }
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return double(usage.ru_maxrss) / 1024.0; // Linux reports KiB
}

static double rate(int64_t tokens, double seconds) {
  return tokens > 0 && seconds > 0 ? double(tokens) / seconds : 0.0;
}

std::string statsLine(const RunStats &s) {
  return format("prompt %lld tokens, generated %lld tokens, prefill %.1f "
                "tok/s, decode %.1f tok/s, peak memory %.1f MiB, load %lld ms, "
                "seed %llu",
                static_cast<long long>(s.promptTokens),
                static_cast<long long>(s.generatedTokens),
                rate(s.promptTokens, s.prefillSeconds),
                rate(s.generatedTokens, s.decodeSeconds), peakMemoryMiB(),
                static_cast<long long>(s.loadSeconds * 1000.0 + 0.5),
                static_cast<unsigned long long>(s.seed));
}

} // namespace llamac::rt
