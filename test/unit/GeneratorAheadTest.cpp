//===- GeneratorAheadTest.cpp - decoding ahead against the plain loop -----===//
//
// Where the memory decodes ahead (a GPU), Generator starts each decode call
// before it has read the token of the call before, and the call takes that
// token on the device. A fake memory here runs calls only when the host
// waits (as a stream would, reading each slot's inputs then), so a slot
// refilled too early or a token fed from the wrong call changes the calls
// it records. Against the plain loop (the same fake, not ahead): the same
// tokens out, the same calls (token, position, number) in the same order,
// the generator left where the loop leaves it; one extra call, after an
// EOS, is the only difference allowed.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Generate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <vector>

using namespace llamac::rt;

namespace {

constexpr int64_t kVocab = 37;
constexpr int64_t kChunk = 4;

struct Call {
  int32_t token;
  int64_t position;
  double u;
  bool operator==(const Call &o) const {
    return token == o.token && position == o.position && u == o.u;
  }
};
std::vector<Call> calls; // every call run, in the order it ran

// The model: the next token a function of the last token, its position
// and the call's number, so that any call fed a wrong input shows.
int32_t draw(int32_t token, int64_t position, double u) {
  return static_cast<int32_t>(
      (token * 31 + position * 7 + static_cast<int64_t>(u * 1000)) % kVocab);
}
void decode(const int32_t *tokens, const int64_t *positions,
            const int64_t *lengths, const double *sampling, float *,
            const uint8_t *, float *, int32_t *next, uint8_t *) {
  ASSERT_EQ(lengths[0], 1);
  calls.push_back({tokens[0], positions[0], sampling[3]});
  next[0] = draw(tokens[0], positions[0], sampling[3]);
}
void prefill(const int32_t *tokens, const int64_t *positions,
             const int64_t *lengths, const double *sampling, float *,
             const uint8_t *, float *, int32_t *next, uint8_t *) {
  const int64_t last = lengths[0] - 1;
  calls.push_back({tokens[last], positions[0] + last, sampling[3]});
  next[0] = draw(tokens[last], positions[0] + last, sampling[3]);
}

// Host buffers in two slots; calls started ahead wait in a queue until
// the host waits for one of them.
class FakeMemory final : public ModelMemory {
public:
  explicit FakeMemory(bool ahead) : ahead_(ahead) {
    next = nextBuffer_;
    useInputs(0);
  }
  bool decodesAhead(bool replayable) const override {
    return ahead_ && replayable;
  }
  void useInputs(int slot) override {
    tokens = slots_[slot].tokens;
    positions = slots_[slot].settings;
    lengths = positions + 1;
    sampling = reinterpret_cast<double *>(lengths + 1);
  }
  Status run(EntryPoint entry, bool) override {
    EXPECT_TRUE(pending_.empty()) << "a call run before the ones started";
    entry(tokens, positions, lengths, sampling, nullptr, nullptr, nullptr, next,
          nullptr);
    return Status::success();
  }
  Status readLogits(int64_t, int64_t, const float *&) override {
    return fail("no logits here");
  }
  Status readNext(int64_t row, int32_t &token) override {
    token = next[row];
    return Status::success();
  }
  Status startDecode(EntryPoint entry, int slot, bool drawn) override {
    EXPECT_LE(pending_.size(), 1u) << "more than two calls in flight";
    for (const Pending &p : pending_)
      EXPECT_NE(p.slot, slot) << "a slot refilled before its call ran";
    pending_.push_back({entry, slot, drawn});
    ++started;
    return Status::success();
  }
  Status awaitDecode(int slot, int32_t &token) override {
    bool found = false;
    while (!pending_.empty() && !found) {
      found = pending_.front().slot == slot;
      runFront();
    }
    EXPECT_TRUE(found) << "waited for a slot with no call";
    token = drawn_[slot];
    return Status::success();
  }
  Status awaitAll() override {
    while (!pending_.empty())
      runFront();
    return Status::success();
  }
  int started = 0;

private:
  struct Pending {
    EntryPoint entry;
    int slot;
    bool drawn;
  };
  void runFront() {
    Pending p = pending_.front();
    pending_.pop_front();
    Slot &in = slots_[p.slot];
    int32_t token = p.drawn ? next[0] : in.tokens[0];
    const int64_t *settings = in.settings;
    p.entry(&token, settings, settings + 1,
            reinterpret_cast<const double *>(settings + 2), nullptr, nullptr,
            nullptr, next, nullptr);
    drawn_[p.slot] = next[0];
  }
  struct Slot {
    int32_t tokens[kChunk] = {};
    int64_t settings[6] = {};
  };
  bool ahead_;
  Slot slots_[2];
  int32_t nextBuffer_[kChunk] = {};
  int32_t drawn_[2] = {};
  std::deque<Pending> pending_;
};

llamac_model_info modelInfo(int64_t eos) {
  llamac_model_info info{};
  info.abi_version = LLAMAC_ABI_VERSION;
  info.vocab_size = kVocab;
  info.ctx_size = 64;
  info.batch = 1;
  info.prefill_chunk = kChunk;
  info.num_eos = eos < 0 ? 0 : 1;
  info.eos_token_ids[0] = eos;
  info.replayable = LLAMAC_REPLAYABLE_DECODE | LLAMAC_REPLAYABLE_PREFILL;
  info.prefill_logits_rows = 1;
  info.sampling_candidates = 1;
  return info;
}

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<Call> calls;
  int64_t generated = 0;
  double nextNumber = 0; // the generator's state after the run
  int started = 0;
};

Outcome generate(bool ahead, int64_t nPredict, int64_t eos, bool ignoreEos,
                 double temperature) {
  llamac_model_info info = modelInfo(eos);
  CompiledModel model{&info, decode, prefill, nullptr};
  FakeMemory memory(ahead);
  Generator generator(model, memory);
  EXPECT_TRUE(generator.prepare().ok());
  Sampler sampler(SamplerOptions{temperature, 0, 1.0, 7});
  Outcome out;
  GenerateCallbacks callbacks;
  callbacks.onToken = [&](int32_t token) {
    out.tokens.push_back(token);
    return Status::success();
  };
  GenerateResult result;
  calls.clear();
  const std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9};
  Status s =
      generator.run(prompt, nPredict, ignoreEos, sampler, callbacks, result);
  EXPECT_TRUE(s.ok()) << s.message();
  out.calls = calls;
  out.generated = result.generated;
  out.nextNumber = sampler.uniform();
  out.started = memory.started;
  return out;
}

void expectSame(int64_t nPredict, int64_t eos, bool ignoreEos,
                double temperature) {
  SCOPED_TRACE(testing::Message()
               << "n " << nPredict << ", eos " << eos << ", ignore-eos "
               << ignoreEos << ", temperature " << temperature);
  Outcome plain = generate(false, nPredict, eos, ignoreEos, temperature);
  Outcome ahead = generate(true, nPredict, eos, ignoreEos, temperature);
  EXPECT_EQ(plain.started, 0);
  EXPECT_EQ(ahead.tokens, plain.tokens);
  EXPECT_EQ(ahead.generated, plain.generated);
  EXPECT_EQ(ahead.nextNumber, plain.nextNumber);
  // The prompt's calls and the loop's decode calls, then at most one more:
  // the call started for a token that was an EOS.
  ASSERT_GE(ahead.calls.size(), plain.calls.size());
  EXPECT_LE(ahead.calls.size(), plain.calls.size() + 1);
  EXPECT_EQ(std::vector<Call>(ahead.calls.begin(),
                              ahead.calls.begin() + plain.calls.size()),
            plain.calls);
  const bool stoppedAtEos = !plain.tokens.empty() && !ignoreEos &&
                            plain.tokens.back() == eos &&
                            plain.tokens.size() > 1;
  EXPECT_EQ(ahead.calls.size(), plain.calls.size() + (stoppedAtEos ? 1 : 0));
}

TEST(GeneratorAhead, SameCallsAndTokensAsTheLoop) {
  for (double temperature : {0.0, 0.8})
    for (int64_t n : {0, 1, 2, 3, 12})
      expectSame(n, /*eos=*/-1, false, temperature);
}

TEST(GeneratorAhead, StopsAtEachEosAsTheLoopDoes) {
  // Every token of a long run as the EOS in turn: the stop at the first
  // token (no decode call), at the second, and later.
  for (double temperature : {0.0, 0.8}) {
    Outcome free = generate(false, 12, -1, false, temperature);
    for (int32_t eos : free.tokens) {
      expectSame(12, eos, false, temperature);
      expectSame(12, eos, true, temperature);
    }
  }
}

TEST(GeneratorAhead, DecodesAheadOnlyWhereTheMemorySaysSo) {
  Outcome ahead = generate(true, 5, -1, false, 0.8);
  EXPECT_EQ(ahead.started, 5); // every decode call started ahead
  Outcome plain = generate(false, 5, -1, false, 0.8);
  EXPECT_EQ(plain.started, 0);
}

} // namespace
