//===- main.cpp - the generated executable's entry point ---------*- C++ -*-===//
//
// Wires the runtime to the compiled model's symbols: flags, payload, prompt,
// generation, --logits-out and the statistics line. The one place that
// prints an `error:` line and picks the exit code.
//
//===----------------------------------------------------------------------===//
#include "llamac/abi/ModelABI.h"
#include "llamac/runtime/Cli.h"
#include "llamac/runtime/Generate.h"
#include "llamac/runtime/Model.h"
#include "llamac/runtime/Npy.h"
#include "llamac/runtime/Payload.h"
#include "llamac/runtime/Sampler.h"
#include "llamac/runtime/Stats.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <unistd.h>

using namespace llamac::rt;

namespace {

// Different on every run, for when --seed is not given.
uint64_t clockSeed() {
  uint64_t t = static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count());
  return t ^ (static_cast<uint64_t>(getpid()) << 32);
}

// Prints the generated ids as they come: "5 9 3".
struct TokenPrinter {
  int64_t printed = 0;
  Status print(int32_t token) {
    std::printf(printed ? " %d" : "%d", token);
    std::fflush(stdout); // streamed: the user sees each token as it comes
    ++printed;
    return Status::success();
  }
};

Status run(int argc, char **argv, const CompiledModel &model,
           TokenPrinter &printer) {
  const llamac_model_info &info = *model.info;
  if (Status s = checkModel(info); !s.ok())
    return s;

  Options options;
  if (Status s = parseCli(argc, argv, info, options); !s.ok())
    return s;
  if (options.help) {
    std::fputs(usage(argc > 0 ? argv[0] : "model", info).c_str(), stdout);
    return Status::success();
  }
  if (options.version) {
    std::fputs(versionText(info).c_str(), stdout);
    return Status::success();
  }
  if (options.prompt)
    return fail("this executable was compiled without a tokenizer; pass token "
                "ids with --tokens");

  std::vector<int32_t> prompt;
  int64_t nPredict = 0;
  if (Status s = checkPrompt(info, *options.tokens, options.nPredict,
                             options.ctxSize, prompt, nPredict);
      !s.ok())
    return s;

  RunStats stats;
  Stopwatch loadTime;
  Payload payload;
  if (Status s = Payload::load(options.weights,
                               executablePath(argc > 0 ? argv[0] : nullptr),
                               info.weights_bytes, payload);
      !s.ok())
    return s;
  stats.loadSeconds = loadTime.seconds();
  const PayloadSection *weights = payload.find("weights");

  NpyWriter npy;
  if (!options.logitsOut.empty())
    if (Status s = npy.open(options.logitsOut, info.vocab_size); !s.ok())
      return s;

  Generator generator(model, weights->mapping.data());
  if (Status s = generator.init(); !s.ok())
    return s;

  stats.seed = options.seed ? *options.seed : clockSeed();
  Sampler sampler(info.vocab_size,
                  SamplerOptions{options.temperature, options.topK,
                                 options.topP, stats.seed});
  GenerateCallbacks callbacks;
  callbacks.onToken = [&](int32_t token) { return printer.print(token); };
  if (!options.logitsOut.empty())
    callbacks.onRow = [&](const float *row) { return npy.appendRow(row); };

  GenerateResult result;
  if (Status s = generator.run(prompt, nPredict, sampler, callbacks, result);
      !s.ok())
    return s;
  std::fputc('\n', stdout);
  printer.printed = 0;
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    return fail("cannot write the tokens to stdout: %s",
                errno ? std::strerror(errno) : "write error");
  if (!options.logitsOut.empty())
    if (Status s = npy.finish(); !s.ok())
      return s;

  stats.promptTokens = static_cast<int64_t>(prompt.size());
  stats.generatedTokens = result.generated;
  stats.prefillSeconds = result.prefillSeconds;
  stats.decodeSeconds = result.decodeSeconds;
  std::fprintf(stderr, "%s\n", statsLine(stats).c_str());
  return Status::success();
}

} // namespace

int main(int argc, char **argv) {
  const CompiledModel model{&llamac_model, llamac_decode, llamac_prefill};
  TokenPrinter printer;
  Status status = run(argc, argv, model, printer);
  if (status.ok())
    return 0;
  if (printer.printed > 0) // end the token line before the error
    std::fputc('\n', stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return 1;
}
