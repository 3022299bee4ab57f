//===- FuzzCheck.h - what the fuzz harnesses assert -------------*- C++ -*-===//
#ifndef LLAMAC_FUZZ_FUZZCHECK_H
#define LLAMAC_FUZZ_FUZZCHECK_H

/// Aborts the run (libFuzzer reports a crash and saves the input).
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      __builtin_trap();                                                        \
  } while (false)

#endif // LLAMAC_FUZZ_FUZZCHECK_H
