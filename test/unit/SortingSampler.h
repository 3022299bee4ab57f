//===- SortingSampler.h - sampling a row by sorting, for tests ---*- C++
//-*-===//
//
// The sampler the runtime held before the model drew its own tokens: the
// row's softmax at the temperature, a partial sort for top-k, the nucleus
// over the most likely first, the draw in f64 sums. Kept as the reference
// that the model's list draw (llama.sample where top-k <= K) must match
// token for token.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_TEST_SORTINGSAMPLER_H
#define LLAMAC_TEST_SORTINGSAMPLER_H

#include "llamac/runtime/Sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace llamac::test {

using rt::SamplerOptions;

class SortingSampler {
public:
  SortingSampler(int64_t vocabSize, const SamplerOptions &options);
  int32_t sample(const float *logits);
  double uniform();

private:
  struct Candidate {
    float logit;
    int32_t id;
    float prob;
  };
  int32_t draw(size_t count, float maxLogit, bool sorted);

  int64_t vocabSize_;
  SamplerOptions options_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;
};

template <typename Candidate>
inline bool before(const Candidate &a, const Candidate &b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

inline int32_t argmax(const float *logits, int64_t n) {
  int32_t best = 0;
  float bestLogit = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i)
    if (logits[i] > bestLogit) { // strict: ties keep the lowest id
      bestLogit = logits[i];
      best = static_cast<int32_t>(i);
    }
  return best;
}

inline SortingSampler::SortingSampler(int64_t vocabSize,
                                      const SamplerOptions &options)
    : vocabSize_(vocabSize), options_(options), rng_(options.seed),
      candidates_(static_cast<size_t>(vocabSize)) {}

inline double SortingSampler::uniform() {
  return double(rng_() >> 11) * 0x1.0p-53;
}

inline int32_t SortingSampler::sample(const float *logits) {
  if (options_.temperature == 0)
    return argmax(logits, vocabSize_);

  const float negInf = -std::numeric_limits<float>::infinity();
  size_t count = candidates_.size();
  float maxLogit = negInf;
  for (size_t i = 0; i < count; ++i) {
    // NaN would break the sort's ordering; it is never a candidate.
    float logit = std::isnan(logits[i]) ? negInf : logits[i];
    candidates_[i] = {logit, static_cast<int32_t>(i), 0.0f};
    maxLogit = std::max(maxLogit, logit);
  }
  // All -inf, or an +inf: the softmax is undefined; the largest wins (the
  // draw's number still taken: every tempered draw takes one).
  if (!std::isfinite(maxLogit)) {
    uniform();
    return argmax(logits, vocabSize_);
  }

  bool sorted = false;
  if (options_.topK > 0 && static_cast<size_t>(options_.topK) < count) {
    count = static_cast<size_t>(options_.topK);
    std::partial_sort(candidates_.begin(), candidates_.begin() + count,
                      candidates_.end(), before<Candidate>);
    sorted = true;
  }

  return draw(count, maxLogit, sorted);
}

inline int32_t SortingSampler::draw(size_t count, float maxLogit, bool sorted) {
  // Unnormalised softmax at the temperature; `sum` normalises.
  const double invTemp = 1.0 / options_.temperature;
  double sum = 0;
  float maxProb = 0;
  for (size_t i = 0; i < count; ++i) {
    Candidate &c = candidates_[i];
    c.prob =
        static_cast<float>(std::exp((double(c.logit) - maxLogit) * invTemp));
    sum += c.prob;
    maxProb = std::max(maxProb, c.prob);
  }

  if (options_.topP < 1 && count > 1) {
    if (!sorted) {
      // A token below (1-p)/(n-1) of the mass cannot be in the nucleus (all
      // of them together hold less than 1-p), so drop those before sorting:
      // the full vocabulary is rarely worth a sort. The most likely token
      // always stays, which matters when p is tiny.
      const float cutoff =
          std::min(maxProb, static_cast<float>((1 - options_.topP) /
                                               double(count - 1) * sum));
      size_t kept = 0;
      for (size_t i = 0; i < count; ++i)
        if (candidates_[i].prob >= cutoff)
          candidates_[kept++] = candidates_[i];
      count = kept;
      std::sort(candidates_.begin(), candidates_.begin() + count,
                before<Candidate>);
    }
    const double target = options_.topP * sum;
    double cumulative = 0;
    size_t keep = count;
    for (size_t i = 0; i < count; ++i) {
      cumulative += candidates_[i].prob;
      if (cumulative >= target) {
        keep = i + 1;
        break;
      }
    }
    count = keep;
    sum = cumulative;
  }

  const double r = uniform() * sum;
  double cumulative = 0;
  for (size_t i = 0; i < count; ++i) {
    cumulative += candidates_[i].prob;
    if (r < cumulative)
      return candidates_[i].id;
  }
  return candidates_[count - 1].id; // rounding left r just past the end
}

} // namespace llamac::test

#endif // LLAMAC_TEST_SORTINGSAMPLER_H
