//===- Cli.h - the generated executable's command line -----------*- C++ -*-===//
//
// Flags as users know them from llama.cpp (-p, -n, --temp, --top-k, ...),
// parsed and range-checked in one place so that every bad flag ends in one
// `error:` line before any file is opened.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_CLI_H
#define LLAMAC_RUNTIME_CLI_H

#include "llamac/abi/ModelABI.h"
#include "llamac/runtime/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llamac::rt {

// -n when not given: this many, clamped to the context the prompt leaves.
constexpr int64_t kDefaultNPredict = 64;

struct Options {
  std::optional<std::string> prompt;          // -p TEXT
  std::optional<std::vector<int64_t>> tokens; // --tokens IDS, not yet checked
                                              // against the vocabulary
  std::optional<int64_t> nPredict;            // -n; unset: kDefaultNPredict
  int64_t ctxSize = 0;                        // -c; 0 until parsed: compiled
  double temperature = 0.8;                   // 0 = greedy
  int64_t topK = 40;                          // 0 = off
  double topP = 0.95;                         // 1 = off
  std::optional<uint64_t> seed;               // unset: from the clock
  std::string logitsOut;                      // --logits-out FILE.npy
  std::string weights;                        // --weights FILE
  bool ignoreEos = false;                     // --ignore-eos
  bool help = false;
  bool version = false;
};

// Parses argv into `options`, checking every flag's syntax and range; -c is
// checked against the compiled context size, the prompt tokens only later
// (see checkPrompt in Generate.h). With -h/--help or --version the prompt is
// not required.
Status parseCli(int argc, char **argv, const llamac_model_info &model,
                Options &options);

// The -h text: every flag with its default.
std::string usage(const char *program, const llamac_model_info &model);

// The --version text: runtime, ABI and the compiled model's shape.
std::string versionText(const llamac_model_info &model);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_CLI_H
