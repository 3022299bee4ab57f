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
#include "llamac/runtime/ModelMemory.h"
#include "llamac/runtime/Npy.h"
#include "llamac/runtime/Payload.h"
#include "llamac/runtime/Sampler.h"
#include "llamac/runtime/Stats.h"
#include "llamac/runtime/Tokenizer.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <unistd.h>

// A model compiled without the long prefill entry does not define it: the
// symbol is then null (checkModel holds it against the info record).
#pragma weak llamac_prefill_long

using namespace llamac::rt;

namespace {

// Different on every run, for when --seed is not given.
uint64_t clockSeed() {
  uint64_t t = static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count());
  return t ^ (static_cast<uint64_t>(getpid()) << 32);
}

// Prints what is generated as it comes: the ids ("5 9 3") for --tokens,
// the text for -p.
class TokenPrinter {
public:
  // Text from here on, decoded after the prompt's tokens.
  void useText(std::unique_ptr<Tokenizer> tokenizer,
               const std::vector<int32_t> &prompt) {
    tokenizer_ = std::move(tokenizer);
    decoder_.emplace(*tokenizer_, prompt);
  }

  Status print(int32_t token) {
    if (!decoder_) {
      std::printf(lineOpen_ ? " %d" : "%d", token);
      lineOpen_ = true;
    } else {
      std::string text;
      if (Status s = decoder_->push(token, text); !s.ok())
        return s;
      write(text);
    }
    std::fflush(stdout); // streamed: the user sees each token as it comes
    return Status::success();
  }

  // Prints what the decoder held back and ends the line.
  Status finish() {
    if (decoder_) {
      std::string text;
      if (Status s = decoder_->finish(text); !s.ok())
        return s;
      write(text);
    }
    std::fputc('\n', stdout);
    std::fflush(stdout); // before the statistics line on stderr
    lineOpen_ = false;
    return Status::success();
  }

  // Whether the line needs a newline before an error message.
  bool lineOpen() const { return lineOpen_; }

private:
  void write(const std::string &text) {
    if (text.empty())
      return;
    std::fwrite(text.data(), 1, text.size(), stdout);
    lineOpen_ = true;
  }

  std::unique_ptr<Tokenizer> tokenizer_; // outlives decoder_
  std::optional<StreamDecoder> decoder_;
  bool lineOpen_ = false;
};

// The payload's tokenizer (the first of kTokenizerSections it holds),
// checked against the model.
Status loadTokenizer(const Payload &payload, const llamac_model_info &info,
                     std::unique_ptr<Tokenizer> &tokenizer) {
  const PayloadSection *section = nullptr;
  const char *name = nullptr;
  for (const char *candidate : kTokenizerSections)
    if ((section = payload.find(candidate))) {
      name = candidate;
      break;
    }
  if (!section)
    return fail("this executable was compiled without a tokenizer; pass token "
                "ids with --tokens");
  if (Status s = loadTokenizer(name, section->mapping.data(), section->bytes,
                               tokenizer);
      !s.ok())
    return fail("%s: %s", payload.path().c_str(), s.message().c_str());
  if (tokenizer->vocabSize() != info.vocab_size)
    return fail("tokenizer has %lld pieces but the model's vocabulary is %lld",
                static_cast<long long>(tokenizer->vocabSize()),
                static_cast<long long>(info.vocab_size));
  // The model's BOS (config.json's bos_token_id) is the one it was trained
  // with; the tokenizer's own normally agrees.
  if (info.bos_token_id < 0 || info.bos_token_id >= info.vocab_size)
    return fail("the model's bos_token_id %lld is out of range [0, %lld)",
                static_cast<long long>(info.bos_token_id),
                static_cast<long long>(info.vocab_size));
  tokenizer->setBosId(static_cast<int32_t>(info.bos_token_id));
  return Status::success();
}

Status loadPayload(int argc, char **argv, const Options &options,
                   const llamac_model_info &info, Payload &payload) {
  return Payload::load(options.weights,
                       executablePath(argc > 0 ? argv[0] : nullptr),
                       info.weights_bytes, payload);
}

Status run(int argc, char **argv, const CompiledModel &model,
           TokenPrinter &printer) {
  const llamac_model_info &info = *model.info;
  if (Status s = checkModel(model); !s.ok())
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

  // --tokens is checked before the payload is read; -p needs the payload's
  // tokenizer first.
  std::vector<int32_t> prompt;
  int64_t nPredict = 0;
  RunStats stats;
  Stopwatch loadTime;
  Payload payload;
  std::unique_ptr<Tokenizer> tokenizer;
  if (options.tokens) {
    if (Status s = checkPrompt(info, *options.tokens, options.nPredict,
                               options.ctxSize, prompt, nPredict);
        !s.ok())
      return s;
    if (Status s = loadPayload(argc, argv, options, info, payload); !s.ok())
      return s;
  } else {
    if (Status s = loadPayload(argc, argv, options, info, payload); !s.ok())
      return s;
    if (Status s = loadTokenizer(payload, info, tokenizer); !s.ok())
      return s;
    std::vector<int32_t> ids;
    if (Status s = tokenizer->encode(*options.prompt, /*addBos=*/true, ids);
        !s.ok())
      return s;
    const std::vector<int64_t> wide(ids.begin(), ids.end());
    if (Status s = checkPrompt(info, wide, options.nPredict, options.ctxSize,
                               prompt, nPredict);
        !s.ok())
      return s;
    printer.useText(std::move(tokenizer), prompt);
  }
  const PayloadSection *weights = payload.find("weights");

  NpyWriter npy;
  if (!options.logitsOut.empty())
    if (Status s = npy.open(options.logitsOut, info.vocab_size); !s.ok())
      return s;

  // The weights go where the kernels run (uploaded to a GPU); load time
  // counts it.
  std::unique_ptr<ModelMemory> memory;
  if (Status s = info.cuda_arch
                     ? makeCudaMemory(info, weights->mapping.data(), memory)
                     : makeHostMemory(info, weights->mapping.data(), memory);
      !s.ok())
    return s;
  Generator generator(model, *memory);
  if (Status s = generator.prepare(); !s.ok())
    return s;
  stats.loadSeconds = loadTime.seconds();

  stats.seed = options.seed ? *options.seed : clockSeed();
  Sampler sampler(SamplerOptions{options.temperature, options.topK,
                                 options.topP, stats.seed});
  GenerateCallbacks callbacks;
  callbacks.onToken = [&](int32_t token) { return printer.print(token); };
  if (!options.logitsOut.empty())
    callbacks.onRow = [&](const float *row) { return npy.appendRow(row); };

  GenerateResult result;
  if (Status s = generator.run(prompt, nPredict, options.ignoreEos, sampler,
                                    callbacks, result);
      !s.ok())
    return s;
  if (Status s = printer.finish(); !s.ok())
    return s;
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
  if (std::string report = memory->memoryReport(); !report.empty())
    std::fprintf(stderr, "%s\n", report.c_str());
  return Status::success();
}

} // namespace

int main(int argc, char **argv) {
  const CompiledModel model{&llamac_model, llamac_decode, llamac_prefill,
                            llamac_prefill_long};
  TokenPrinter printer;
  Status status = run(argc, argv, model, printer);
  if (status.ok())
    return 0;
  if (printer.lineOpen()) // end the output line before the error
    std::fputc('\n', stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return 1;
}
