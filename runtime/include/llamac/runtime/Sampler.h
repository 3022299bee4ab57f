//===- Sampler.h - the sampling settings and their generator -----*- C++
//-*-===//
//
// Greedy, or temperature + top-k + top-p (nucleus) sampling with a seeded
// generator: the same seed and logits always give the same tokens. The
// compiled model draws each token (llama.sample, ModelABI.h); the runtime
// gives it these settings and the generator's next number a step.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_SAMPLER_H
#define LLAMAC_RUNTIME_SAMPLER_H

#include <cstdint>
#include <random>

namespace llamac::rt {

struct SamplerOptions {
  double temperature = 0.8; // 0 = greedy
  int64_t topK = 40;        // 0 = off
  double topP = 0.95;       // 1 = off
  uint64_t seed = 0;
};

class Sampler {
public:
  explicit Sampler(const SamplerOptions &options)
      : options_(options), rng_(options.seed) {}

  // Temperature 0: the model's argmax, which takes no number.
  bool greedy() const { return options_.temperature == 0; }
  const SamplerOptions &options() const { return options_; }

  // A uniform double in [0, 1) from the generator's next 53 bits; spelled
  // out rather than std::uniform_real_distribution, whose output differs
  // between standard libraries, so a seed means the same on every system.
  // Every tempered draw takes exactly one.
  double uniform() { return double(rng_() >> 11) * 0x1.0p-53; }

private:
  SamplerOptions options_;
  std::mt19937_64 rng_;
};

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_SAMPLER_H
