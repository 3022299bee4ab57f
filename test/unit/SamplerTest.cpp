//===- SamplerTest.cpp - the draw of the next token -------------*- C++ -*-===//
//
// The model draws each token (llama.sample, ModelABI.h); reference_draw.h
// writes its two regimes out in C. Here: the runtime's generator is seeded;
// the list regime picks what a sampler that sorts the row picks, token for
// token; over many draws the row regime's frequencies match the softmax
// over its candidates and nucleus (computed here in double, by sorting),
// ties at a threshold all kept, NaN never drawn.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Sampler.h"
#include "SortingSampler.h"
#include "reference_draw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace llamac::rt;
using llamac::test::SortingSampler;

namespace {

SamplerOptions opts(double temperature, int64_t topK, double topP,
                    uint64_t seed = 1) {
  SamplerOptions o;
  o.temperature = temperature;
  o.topK = topK;
  o.topP = topP;
  o.seed = seed;
  return o;
}

// The top list a model returns: the k largest, larger first, the lower id
// first among equals, NaN as -inf (ModelABI.h), by a full stable sort.
void topList(const std::vector<float> &row, size_t k,
             std::vector<float> &logits, std::vector<int32_t> &ids) {
  std::vector<int32_t> order(row.size());
  std::iota(order.begin(), order.end(), 0);
  auto value = [&](int32_t i) {
    return std::isnan(row[i]) ? -std::numeric_limits<float>::infinity()
                              : row[i];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return value(a) > value(b); });
  logits.clear();
  ids.assign(order.begin(), order.begin() + k);
  for (int32_t id : ids)
    logits.push_back(value(id));
}

// The model's token for `row` with lists of `listed` pairs, given the
// generator's next number (as Generator::setDraw gives it).
int32_t modelDraw(const std::vector<float> &row, int listed,
                  const SamplerOptions &o, Sampler &generator) {
  std::vector<float> logits;
  std::vector<int32_t> ids;
  topList(row, listed, logits, ids);
  const double settings[4] = {o.temperature, static_cast<double>(o.topK),
                              o.topP,
                              generator.greedy() ? 0.0 : generator.uniform()};
  return reference_next(row.data(), static_cast<int64_t>(row.size()),
                        logits.data(), ids.data(), listed, settings);
}

std::vector<double> frequencies(const std::vector<float> &row, int listed,
                                const SamplerOptions &o, int draws) {
  Sampler generator(o);
  std::vector<double> f(row.size(), 0.0);
  for (int i = 0; i < draws; ++i)
    f[modelDraw(row, listed, o, generator)] += 1.0 / draws;
  return f;
}

// softmax(logits / t) over `keep`.
std::vector<double> softmax(const std::vector<float> &logits, double t,
                            const std::vector<int> &keep) {
  std::vector<double> p(logits.size(), 0.0);
  double sum = 0;
  for (int k : keep)
    sum += p[k] = std::exp(logits[k] / t);
  for (double &x : p)
    x /= sum;
  return p;
}

void expectNear(const std::vector<double> &f, const std::vector<double> &p,
                const char *what) {
  for (size_t i = 0; i < f.size(); ++i)
    EXPECT_NEAR(f[i], p[i], 0.006) << what << ", token " << i;
}

} // namespace

TEST(Sampler, SameSeedSameNumbersOtherSeedOthers) {
  Sampler a(opts(1, 0, 1, 99)), b(opts(1, 0, 1, 99)), c(opts(1, 0, 1, 100));
  bool differs = false;
  for (int i = 0; i < 64; ++i) {
    const double x = a.uniform();
    EXPECT_EQ(x, b.uniform());
    EXPECT_TRUE(x >= 0 && x < 1);
    differs |= x != c.uniform();
  }
  EXPECT_TRUE(differs);
}

TEST(Sampler, GreedyIsTheListsFirstWhateverTheSettings) {
  const std::vector<float> row = {0.5f, 4, -1, 4, 2};
  for (int64_t k : {0, 1, 3, 40}) {
    Sampler generator(opts(0, k, 0.5));
    EXPECT_EQ(modelDraw(row, 2, generator.options(), generator), 1);
  }
}

// The row regime (top-k off): the softmax at the temperature.
TEST(Sampler, RowDrawMatchesSoftmax) {
  const std::vector<float> row = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
  for (double t : {0.5, 1.0, 2.0})
    expectNear(frequencies(row, 1, opts(t, 0, 1.0, 42), 200000),
               softmax(row, t, {0, 1, 2, 3, 4}), "top-k off");
}

// Top-k past the list (here 2 > 1): the row regime keeps the k largest.
TEST(Sampler, RowDrawTopKPastTheListKeepsTheKLargest) {
  const std::vector<float> row = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
  expectNear(frequencies(row, 1, opts(1.0, 2, 1.0, 3), 100000),
             softmax(row, 1.0, {1, 2}), "top-k 2 of a list of 1");
  // Top-k at or past the vocabulary: all.
  expectNear(frequencies(row, 1, opts(1.0, 9, 1.0, 3), 100000),
             softmax(row, 1.0, {0, 1, 2, 3, 4}), "top-k 9");
}

TEST(Sampler, RowDrawTopPKeepsTheNucleus) {
  // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps the first two (0.5
  // alone is short of 0.7), top-p 0.85 keeps three.
  const std::vector<float> row = {std::log(0.5f), std::log(0.3f),
                                  std::log(0.15f), std::log(0.05f)};
  for (int64_t k : {0, 3}) {
    expectNear(frequencies(row, 1, opts(1.0, k, 0.7, 5), 100000),
               softmax(row, 1.0, {0, 1}), "top-p 0.7");
    expectNear(frequencies(row, 1, opts(1.0, k, 0.85, 5), 100000),
               softmax(row, 1.0, {0, 1, 2}), "top-p 0.85");
  }
  // Top-k 2 first, then top-p 0.7 of those two: 0.5 / 0.8 is short of it.
  expectNear(frequencies(row, 1, opts(1.0, 2, 0.7, 6), 100000),
             softmax(row, 1.0, {0, 1}), "top-k 2, top-p 0.7");
  // ... and top-p 0.6 of them: 0.625 reaches it, the first alone.
  expectNear(frequencies(row, 1, opts(1.0, 2, 0.6, 6), 1000),
             softmax(row, 1.0, {0}), "top-k 2, top-p 0.6");
}

// A threshold keeps every entry equal to it: top-k 2 over {2, 1, 1, 1, 0}
// keeps the three 1s beside the 2; a tiny top-p keeps the maximum's ties.
TEST(Sampler, RowDrawKeepsTiesAtAThreshold) {
  const std::vector<float> row = {2, 1, 1, 1, 0};
  expectNear(frequencies(row, 1, opts(1.0, 2, 1.0, 8), 100000),
             softmax(row, 1.0, {0, 1, 2, 3}), "top-k 2 with ties");
  const std::vector<float> tied = {1, 3, 0, 3, 3, 2};
  expectNear(frequencies(tied, 1, opts(1.0, 0, 1e-9, 8), 60000),
             softmax(tied, 1.0, {1, 3, 4}), "tiny top-p with ties");
}

TEST(Sampler, RowDrawNeverDrawsNaNAndInfinityIsGreedy) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> withNaN = {nan, 1.0f, nan, 3.0f};
  Sampler generator(opts(1.0, 0, 0.9, 1));
  for (int i = 0; i < 200; ++i) {
    const int32_t token = modelDraw(withNaN, 1, generator.options(), generator);
    EXPECT_TRUE(token == 1 || token == 3) << token;
  }
  const std::vector<float> withInf = {0.0f, inf, 1.0f, inf};
  EXPECT_EQ(modelDraw(withInf, 1, generator.options(), generator), 1);
  const std::vector<float> allNaN = {nan, nan, nan, nan};
  EXPECT_EQ(modelDraw(allNaN, 1, generator.options(), generator), 0);
}

// On a vocabulary's worth of entries the fixed point holds: the largest
// mass, 128,256 * 2^46, stays below 2^63, and a flat row draws every id
// about equally often.
TEST(Sampler, RowDrawOnAFullVocabulary) {
  EXPECT_EQ(reference_row_shift(128256), 46);
  std::vector<float> flat(128256, 0.25f);
  EXPECT_LT(reference_row_mass(flat.data(), 128256, 0.25f, 1.0f, 0), uint64_t(1)
                                                                         << 63);
  Sampler generator(opts(1.0, 0, 1.0, 4));
  std::vector<int> halves(2, 0);
  for (int i = 0; i < 400; ++i) {
    const double settings[4] = {1.0, 0, 1.0, generator.uniform()};
    const int32_t token =
        reference_draw_row(flat.data(), 128256, 0.25f, 4, settings);
    ASSERT_TRUE(token >= 0 && token < 128256);
    ++halves[token >= 64128];
  }
  EXPECT_NEAR(halves[0], 200, 50);
}

// Over rows with ties, NaN and infinities, the model's draw from the row's
// top list (the list regime, top-k <= K) gives the token that sorting the
// row gives, draw for draw (given the number that sampler's generator
// takes), for several top-k and top-p.
TEST(Sampler, ListDrawPicksWhatSortingTheRowPicks) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> level(0, 7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> row(300);
    for (float &x : row)
      x = 0.5f * level(rng); // eight levels: ties everywhere
    row[rng() % row.size()] = nan;
    if (trial % 10 == 0)
      row[rng() % row.size()] = -inf;
    if (trial % 37 == 0)
      row[rng() % row.size()] = inf;
    for (int64_t k : {1, 2, 7, 40, 64})
      for (double p : {0.3, 0.95, 1.0}) {
        const uint64_t seed = trial * 131 + k * 7 + static_cast<int>(p * 10);
        const SamplerOptions options = opts(1.3, k, p, seed);
        SortingSampler sorting(300, options);
        Sampler generator(options); // the numbers the model is given
        for (int draw = 0; draw < 5; ++draw)
          ASSERT_EQ(sorting.sample(row.data()),
                    modelDraw(row, 64, options, generator))
              << "trial " << trial << " k " << k << " p " << p;
      }
  }
}
