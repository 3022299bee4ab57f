//===- Generate.cpp - prompt processing and the generation loop --*- C++ -*-===//
//
// With batch > 1 every sequence gets the same tokens and positions and only
// sequence 0's logits are read: correct, if wasteful, until the runtime
// serves several prompts at once.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Generate.h"
#include "llamac/runtime/Cli.h"
#include "llamac/runtime/Stats.h"

#include <algorithm>

namespace llamac::rt {

Status checkPrompt(const llamac_model_info &model,
                   const std::vector<int64_t> &ids,
                   std::optional<int64_t> nPredict, int64_t ctxSize,
                   std::vector<int32_t> &prompt, int64_t &n) {
  if (ids.empty())
    return fail("the prompt is empty (--tokens gave no token ids)");
  for (int64_t id : ids)
    if (id < 0 || id >= model.vocab_size)
      return fail("--tokens: token id %lld is out of range [0, %lld) (the "
                  "vocabulary size)",
                  static_cast<long long>(id),
                  static_cast<long long>(model.vocab_size));
  const int64_t length = static_cast<int64_t>(ids.size());
  if (length > ctxSize)
    return fail("prompt (%lld tokens) exceeds the context size %lld",
                static_cast<long long>(length),
                static_cast<long long>(ctxSize));
  if (nPredict) {
    if (*nPredict > ctxSize - length)
      return fail("prompt (%lld tokens) + -n %lld exceeds the context size "
                  "%lld",
                  static_cast<long long>(length),
                  static_cast<long long>(*nPredict),
                  static_cast<long long>(ctxSize));
    n = *nPredict;
  } else {
    n = std::min(kDefaultNPredict, ctxSize - length);
  }
  prompt.assign(ids.begin(), ids.end());
  return Status::success();
}

bool Generator::isEos(int32_t token) const {
  for (int64_t i = 0; i < info_.num_eos; ++i)
    if (info_.eos_token_ids[i] == token)
      return true;
  return false;
}

Status Generator::readRow(int64_t row, bool rows, Output &out) {
  if (Status s = memory_.readNext(row, out.next); !s.ok() || !rows)
    return s;
  if (Status s = memory_.readLogits(row, 1, out.rows); !s.ok())
    return s;
  out.rows += row * info_.vocab_size; // rows[r] at r * vocab
  return Status::success();
}

void Generator::setDraw(Sampler &sampler) {
  const SamplerOptions &o = sampler.options();
  const double uniform = sampler.greedy() ? 0.0 : sampler.uniform();
  for (int64_t b = 0; b < info_.batch; ++b) {
    double *settings = memory_.sampling + 4 * b;
    settings[0] = o.temperature;
    settings[1] = static_cast<double>(o.topK);
    settings[2] = o.topP;
    settings[3] = uniform;
  }
}

void Generator::setDecodeInputs(int32_t token, int64_t position) {
  ModelMemory &m = memory_;
  // Decode reads tokens as [batch, 1].
  std::fill(m.tokens, m.tokens + info_.batch, token);
  std::fill(m.positions, m.positions + info_.batch, position);
  std::fill(m.lengths, m.lengths + info_.batch, 1);
}

Status Generator::decode(int32_t token, int64_t position, bool rows,
                         Output &out) {
  setDecodeInputs(token, position);
  if (Status s = memory_.run(decode_.call, decode_.replayable); !s.ok())
    return s;
  return readRow(0, rows, out);
}

Generator::Generator(const CompiledModel &model, ModelMemory &memory)
    : info_(*model.info), memory_(memory) {
  decode_ = {model.decode, 1, 1,
             bool(info_.replayable & LLAMAC_REPLAYABLE_DECODE)};
  prefill_ = {model.prefill, info_.prefill_chunk, info_.prefill_logits_rows,
              bool(info_.replayable & LLAMAC_REPLAYABLE_PREFILL)};
  if (model.prefillLong)
    prefillLong_ = {model.prefillLong, info_.prefill_long_chunk,
                    info_.prefill_long_logits_rows,
                    bool(info_.replayable & LLAMAC_REPLAYABLE_PREFILL_LONG)};
}

Status Generator::prepare() {
  for (const Entry *entry : {&decode_, &prefill_, &prefillLong_})
    if (entry->call)
      if (Status s = memory_.prepare(entry->call, entry->replayable); !s.ok())
        return s;
  if (memory_.decodesAhead(decode_.replayable))
    return memory_.prepareDecodeAhead(decode_.call);
  return Status::success();
}

// A prefill call writes all its chunk's positions into the cache, padding
// included, so its chunk must fit in the compiled context; a single token is
// cheaper through decode, which computes one row, not a chunk; `everyRow`
// (--logits-out) needs an entry that writes every row's logits. The long
// entry goes where the short one's calls would compute at least as many rows
// (its padding included): its longer GEMMs run faster a row.
const Generator::Entry *Generator::prefillFor(int64_t position,
                                              int64_t remaining,
                                              bool everyRow) const {
  auto usable = [&](const Entry &entry) {
    return entry.call && entry.chunk > 1 &&
           position + entry.chunk <= info_.ctx_size &&
           (!everyRow || entry.logitsRows == entry.chunk);
  };
  if (remaining < 2)
    return nullptr;
  const int64_t shortRows =
      (remaining + prefill_.chunk - 1) / prefill_.chunk * prefill_.chunk;
  if (usable(prefillLong_) && shortRows >= prefillLong_.chunk)
    return &prefillLong_;
  return usable(prefill_) ? &prefill_ : nullptr;
}

Status Generator::prefill(const Entry &entry, const int32_t *tokens,
                          int64_t count, int64_t position, bool allRows,
                          Output &out) {
  ModelMemory &m = memory_;
  const int64_t chunk = entry.chunk;
  for (int64_t b = 0; b < info_.batch; ++b) {
    int32_t *row = m.tokens + b * chunk;
    std::copy(tokens, tokens + count, row);
    std::fill(row + count, row + chunk, 0); // padding; its logits are unused
  }
  std::fill(m.positions, m.positions + info_.batch, position);
  std::fill(m.lengths, m.lengths + info_.batch, count);
  if (Status s = m.run(entry.call, entry.replayable); !s.ok())
    return s;
  // The last token's row: row count - 1 where every token has one, else
  // the one row the call wrote (compiled without --logits-all).
  const int64_t last = entry.logitsRows == chunk ? count - 1 : 0;
  if (!allRows)
    return readRow(last, /*rows=*/false, out);
  if (Status s = m.readNext(last, out.next); !s.ok())
    return s;
  return m.readLogits(0, count, out.rows);
}

Status Generator::processPrompt(const std::vector<int32_t> &prompt,
                                const GenerateCallbacks &callbacks,
                                Output &last) {
  const int64_t length = static_cast<int64_t>(prompt.size());
  const int64_t vocab = info_.vocab_size;
  int64_t position = 0;
  while (position < length) {
    const Entry *entry =
        prefillFor(position, length - position, bool(callbacks.onRow));
    if (entry) {
      const int64_t count = std::min(entry->chunk, length - position);
      const bool allRows = bool(callbacks.onRow);
      if (Status s = prefill(*entry, prompt.data() + position, count, position,
                             allRows, last);
          !s.ok())
        return s;
      if (allRows) {
        for (int64_t r = 0; r < count; ++r)
          if (Status s = callbacks.onRow(last.rows + r * vocab); !s.ok())
            return s;
        last.rows += (count - 1) * vocab;
      }
      position += count;
    } else {
      if (Status s =
              decode(prompt[position], position, bool(callbacks.onRow), last);
          !s.ok())
        return s;
      if (callbacks.onRow)
        if (Status s = callbacks.onRow(last.rows); !s.ok())
          return s;
      position += 1;
    }
  }
  return Status::success();
}

// The loop below, where the memory decodes ahead: call i (token i at
// position + i, drawing token i + 1) is started before the host waits for
// token i, which the call reads on the device, so the GPU does not wait for
// the host between steps. The calls and the generator's numbers are the
// loop's; only a call started before its token turned out to be an EOS is
// extra: it is waited for and dropped, and its number given back.
Status Generator::generateAhead(int32_t first, int64_t position,
                                int64_t nPredict, bool ignoreEos,
                                Sampler &sampler,
                                const GenerateCallbacks &callbacks,
                                GenerateResult &result) {
  auto start = [&](int64_t call, bool drawn, int32_t token) {
    const int slot = static_cast<int>(call % 2);
    memory_.useInputs(slot);
    setDraw(sampler);
    setDecodeInputs(token, position + call); // the token unread if drawn
    return memory_.startDecode(decode_.call, slot, drawn);
  };
  // A token to the caller: false where generation stops after it.
  Status status;
  auto emit = [&](int32_t token) {
    ++result.generated;
    if (callbacks.onToken)
      if (status = callbacks.onToken(token); !status.ok())
        return false;
    return ignoreEos || !isEos(token);
  };
  if (nPredict < 1 || !emit(first))
    return status;
  if (status = start(0, false, first); !status.ok())
    return status;
  for (int64_t i = 1; i < nPredict; ++i) {
    const Sampler beforeCall = sampler;
    if (status = start(i, true, 0); !status.ok())
      break;
    int32_t token = 0;
    if (status = memory_.awaitDecode(static_cast<int>((i - 1) % 2), token);
        !status.ok())
      break;
    if (!emit(token)) {
      sampler = beforeCall; // call i fed back an EOS: not the loop's
      break;
    }
  }
  // The last call started (its draw unread, as the loop's last call's).
  Status finished = memory_.awaitAll();
  return status.ok() ? finished : status;
}

Status Generator::run(const std::vector<int32_t> &prompt, int64_t nPredict,
                      bool ignoreEos, Sampler &sampler,
                      const GenerateCallbacks &callbacks,
                      GenerateResult &result) {
  result = GenerateResult();
  // The model draws every token (llama.sample): a token id, not a row,
  // crosses PCIe per step, and the rows only where --logits-out wants them.
  // Each draw takes the generator's next number before its call: the
  // prompt's token's before the prompt, each later token's before its
  // decode call.
  const bool rows = bool(callbacks.onRow);
  setDraw(sampler);
  Output last;
  Stopwatch prefillTime;
  if (Status s = processPrompt(prompt, callbacks, last); !s.ok())
    return s;
  result.prefillSeconds = prefillTime.seconds();

  Stopwatch decodeTime;
  int64_t position = static_cast<int64_t>(prompt.size());
  if (!rows && memory_.decodesAhead(decode_.replayable)) {
    Status s = generateAhead(last.next, position, nPredict, ignoreEos, sampler,
                             callbacks, result);
    result.decodeSeconds = decodeTime.seconds();
    return s;
  }
  for (int64_t i = 0; i < nPredict; ++i) {
    const int32_t token = last.next;
    ++result.generated;
    if (callbacks.onToken)
      if (Status s = callbacks.onToken(token); !s.ok())
        return s;
    if (!ignoreEos && isEos(token))
      break; // not fed back: its row would be logits nobody samples from
    setDraw(sampler);
    if (Status s = decode(token, position++, rows, last); !s.ok())
      return s;
    if (callbacks.onRow)
      if (Status s = callbacks.onRow(last.rows); !s.ok())
        return s;
  }
  result.decodeSeconds = decodeTime.seconds();
  return Status::success();
}

} // namespace llamac::rt
