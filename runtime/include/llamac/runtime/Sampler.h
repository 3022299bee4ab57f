//===- Sampler.h - picking the next token from a row of logits ---*- C++ -*-===//
//
// Greedy, or temperature + top-k + top-p (nucleus) sampling with a seeded
// generator: the same seed and logits always give the same tokens. The one
// piece of math the runtime holds; all model math is compiled code.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_SAMPLER_H
#define LLAMAC_RUNTIME_SAMPLER_H

#include <cstdint>
#include <random>
#include <vector>

namespace llamac::rt {

struct SamplerOptions {
  double temperature = 0.8; // 0 = greedy
  int64_t topK = 40;        // 0 = off
  double topP = 0.95;       // 1 = off
  uint64_t seed = 0;
};

// The index of the largest logit; the lowest index among equal ones.
int32_t argmax(const float *logits, int64_t n);

class Sampler {
public:
  Sampler(int64_t vocabSize, const SamplerOptions &options);

  // The next token for `logits` (vocabSize floats). Allocates nothing: the
  // candidate buffer is sized once, in the constructor.
  int32_t sample(const float *logits);

  // Temperature 0: sample is argmax, which the compiled model also returns.
  bool greedy() const { return options_.temperature == 0; }

  // Whether the model's own draw over each row's top list of `listed`
  // pairs (llama.sample, ModelABI.h) picks what sample picks from the row:
  // a tempered draw whose top-k is at most `listed` and below the
  // vocabulary (sample then sorts those same k first, and the model draws
  // as draw does, in the same precision and order).
  bool samplesFromTop(int64_t listed) const {
    return !greedy() && options_.topK > 0 && options_.topK <= listed &&
           options_.topK < vocabSize_;
  }
  const SamplerOptions &options() const { return options_; }

  // A uniform double in [0, 1) from the generator's next 53 bits; spelled
  // out rather than std::uniform_real_distribution, whose output differs
  // between standard libraries, so a seed means the same on every system.
  // Every tempered draw takes exactly one: sample's own, or the number the
  // model's draw is given, so that both give the same tokens.
  double uniform();

private:
  struct Candidate {
    float logit;
    int32_t id;
    float prob;
  };

  // Softmax at the temperature over candidates_[0, count), then top-p
  // (over the most likely first: `sorted` says whether they are), then the
  // draw.
  int32_t draw(size_t count, float maxLogit, bool sorted);

  int64_t vocabSize_;
  SamplerOptions options_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;
};

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_SAMPLER_H
