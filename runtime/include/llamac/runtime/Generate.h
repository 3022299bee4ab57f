//===- Generate.h - prompt processing and the generation loop ----*- C++ -*-===//
//
// Owns the KV cache and the logits buffer, feeds the prompt through prefill
// (in chunks) or decode, then samples and feeds back one token at a time.
// Callbacks stream each token and each processed position's logits out.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_GENERATE_H
#define LLAMAC_RUNTIME_GENERATE_H

#include "llamac/runtime/Model.h"
#include "llamac/runtime/ModelMemory.h"
#include "llamac/runtime/Sampler.h"
#include "llamac/runtime/Status.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace llamac::rt {

// Checks the --tokens ids against the model and the context and fixes -n:
// every id in [0, vocab), a non-empty prompt of at most `ctxSize` tokens,
// prompt + -n <= ctxSize. Without -n, -n is kDefaultNPredict or what the
// context leaves, if less.
Status checkPrompt(const llamac_model_info &model,
                   const std::vector<int64_t> &ids,
                   std::optional<int64_t> nPredict, int64_t ctxSize,
                   std::vector<int32_t> &prompt, int64_t &n);

struct GenerateCallbacks {
  // Each sampled token, in order; a sampled EOS too (then generation stops).
  std::function<Status(int32_t token)> onToken;
  // The logits (vocab floats) of each position the model processed: the
  // prompt's, then each generated token's that was fed back. May be empty.
  std::function<Status(const float *logits)> onRow;
};

struct GenerateResult {
  int64_t generated = 0; // sampled tokens, a final EOS included
  double prefillSeconds = 0;
  double decodeSeconds = 0;
};

class Generator {
public:
  // `memory` holds the weights, the KV cache and the call buffers.
  Generator(const CompiledModel &model, ModelMemory &memory);

  // Readies every entry point for its first call (ModelMemory::prepare: a
  // GPU records each replayable one's CUDA graph), so that load time, not
  // the first call, pays for it.
  Status prepare();

  // Processes `prompt` (checked by checkPrompt) from position 0, then
  // generates up to `nPredict` tokens, stopping after an EOS unless
  // `ignoreEos` (then an EOS is fed back like any token).
  Status run(const std::vector<int32_t> &prompt, int64_t nPredict,
             bool ignoreEos, Sampler &sampler,
             const GenerateCallbacks &callbacks, GenerateResult &result);

private:
  // What a call's caller reads of the last row: the token the model drew
  // (one id off a GPU), and for --logits-out the logits rows.
  struct Output {
    const float *rows = nullptr; // the first; rows are vocab apart
    int32_t next = 0;
  };
  // An entry point and the shape of its call (ModelABI.h).
  struct Entry {
    EntryPoint call = nullptr; // null: the model has no such entry
    int64_t chunk = 0;         // tokens a sequence
    int64_t logitsRows = 0;    // rows of logits a sequence: chunk or 1
    bool replayable = false;
  };
  // A decode call's tokens, positions and lengths: `token` at `position`.
  void setDecodeInputs(int32_t token, int64_t position);
  // One decode call for `token` at `position`.
  Status decode(int32_t token, int64_t position, bool rows, Output &out);
  // The prefill entry for the prompt's rest (`remaining` tokens) from
  // `position`, or null where decode takes the next token.
  const Entry *prefillFor(int64_t position, int64_t remaining,
                          bool everyRow) const;
  // One call of `entry` for `count` <= entry.chunk tokens at `position`,
  // padded with token 0; its last row's token is read, and every row's
  // logits where `allRows`.
  Status prefill(const Entry &entry, const int32_t *tokens, int64_t count,
                 int64_t position, bool allRows, Output &out);
  // run's generation loop where the memory decodes ahead (see there),
  // from the prompt's draw `first` at `position`.
  Status generateAhead(int32_t first, int64_t position, int64_t nPredict,
                       bool ignoreEos, Sampler &sampler,
                       const GenerateCallbacks &callbacks,
                       GenerateResult &result);
  // `last`: the prompt's last row (rows point at it).
  Status processPrompt(const std::vector<int32_t> &prompt,
                       const GenerateCallbacks &callbacks, Output &last);
  // Reads row `row`'s token of the call just made, and its logits where
  // `rows`.
  Status readRow(int64_t row, bool rows, Output &out);
  // The sampling settings of the calls to come (ModelABI.h): `sampler`'s,
  // with the next number of its generator where it is not greedy.
  void setDraw(Sampler &sampler);
  bool isEos(int32_t token) const;

  const llamac_model_info &info_;
  ModelMemory &memory_;
  Entry decode_, prefill_, prefillLong_;
};

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_GENERATE_H
