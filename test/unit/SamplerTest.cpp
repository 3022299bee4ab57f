//===- SamplerTest.cpp - the runtime's sampler ------------------*- C++ -*-===//
//
// Greedy ties, top-k=1 and a tiny top-p equal greedy, and over many seeded
// draws the temperature / top-k / top-p distributions match the softmax.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Sampler.h"
#include "reference_draw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace llamac::rt;

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

// softmax(logits / temperature), restricted to `keep` (all if empty).
std::vector<double> softmax(const std::vector<float> &logits, double t,
                            const std::vector<int> &keep = {}) {
  std::vector<double> p(logits.size(), 0.0);
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    bool kept = keep.empty();
    for (int k : keep)
      kept |= static_cast<size_t>(k) == i;
    if (kept)
      sum += p[i] = std::exp(logits[i] / t);
  }
  for (double &x : p)
    x /= sum;
  return p;
}

std::vector<double> frequencies(Sampler &sampler,
                                const std::vector<float> &logits, int draws) {
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i)
    f[sampler.sample(logits.data())] += 1.0 / draws;
  return f;
}

// Logits with ties among the largest, which greedy must break by lowest id.
std::vector<float> tiedLogits(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> logits(50);
  for (float &x : logits)
    x = static_cast<float>(rng() % 7); // many equal values
  return logits;
}

TEST(Sampler, ArgmaxTiesPickLowestId) {
  const std::vector<float> logits = {1, 3, 3, 2, 3};
  EXPECT_EQ(argmax(logits.data(), logits.size()), 1);
  const std::vector<float> single = {-5};
  EXPECT_EQ(argmax(single.data(), 1), 0);
}

TEST(Sampler, GreedyIsArgmaxWhateverTheSeed) {
  const std::vector<float> logits = {0.5f, 4, -1, 4, 2};
  for (uint64_t seed : {0ull, 1ull, 12345ull}) {
    Sampler sampler(logits.size(), opts(0, 40, 0.95, seed));
    for (int i = 0; i < 10; ++i)
      EXPECT_EQ(sampler.sample(logits.data()), 1);
  }
}

TEST(Sampler, TopK1EqualsGreedy) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = tiedLogits(seed);
    Sampler sampler(logits.size(), opts(1.5, 1, 1.0, seed));
    EXPECT_EQ(sampler.sample(logits.data()),
              argmax(logits.data(), logits.size()))
        << "seed " << seed;
  }
}

TEST(Sampler, TinyTopPEqualsGreedy) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = tiedLogits(seed);
    // With and without top-k in front of top-p: two code paths.
    for (int64_t topK : {0, 10}) {
      Sampler sampler(logits.size(), opts(1.0, topK, 1e-9, seed));
      EXPECT_EQ(sampler.sample(logits.data()),
                argmax(logits.data(), logits.size()))
          << "seed " << seed << " top-k " << topK;
    }
  }
}

TEST(Sampler, TinyTopPOnAFlatDistributionIsGreedy) {
  // Every token equally likely: the nucleus filter's cutoff exceeds each
  // probability, yet the most likely (lowest id) token must stay.
  const std::vector<float> logits(1000, 0.25f);
  Sampler sampler(logits.size(), opts(1.0, 0, 1e-6, 7));
  EXPECT_EQ(sampler.sample(logits.data()), 0);
}

TEST(Sampler, TemperatureMatchesSoftmax) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
  for (double t : {0.5, 1.0, 2.0}) {
    Sampler sampler(logits.size(), opts(t, 0, 1.0, 42));
    std::vector<double> f = frequencies(sampler, logits, 200000);
    std::vector<double> p = softmax(logits, t);
    for (size_t i = 0; i < logits.size(); ++i)
      EXPECT_NEAR(f[i], p[i], 0.006) << "temperature " << t << " token " << i;
  }
}

TEST(Sampler, TopKKeepsTheKLargest) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, -1.0f};
  Sampler sampler(logits.size(), opts(1.0, 2, 1.0, 3));
  std::vector<double> f = frequencies(sampler, logits, 100000);
  std::vector<double> p = softmax(logits, 1.0, {1, 2});
  for (size_t i = 0; i < logits.size(); ++i)
    EXPECT_NEAR(f[i], p[i], 0.006) << "token " << i;
}

TEST(Sampler, TopPKeepsTheNucleus) {
  // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.7 keeps the first two (0.5
  // alone is short of 0.7), top-p 0.85 keeps three.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f),
                                     std::log(0.15f), std::log(0.05f)};
  for (int64_t topK : {0, 4}) {
    Sampler two(logits.size(), opts(1.0, topK, 0.7, 5));
    std::vector<double> f = frequencies(two, logits, 100000);
    std::vector<double> p = softmax(logits, 1.0, {0, 1});
    for (size_t i = 0; i < logits.size(); ++i)
      EXPECT_NEAR(f[i], p[i], 0.006) << "top-k " << topK << " token " << i;

    Sampler three(logits.size(), opts(1.0, topK, 0.85, 5));
    f = frequencies(three, logits, 100000);
    p = softmax(logits, 1.0, {0, 1, 2});
    for (size_t i = 0; i < logits.size(); ++i)
      EXPECT_NEAR(f[i], p[i], 0.006) << "top-k " << topK << " token " << i;
  }
}

TEST(Sampler, SameSeedSameTokensOtherSeedOtherTokens) {
  std::vector<float> logits(32);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = static_cast<float>(i % 5) * 0.3f;
  auto draw = [&](uint64_t seed) {
    Sampler sampler(logits.size(), opts(1.0, 0, 1.0, seed));
    std::vector<int32_t> tokens;
    for (int i = 0; i < 64; ++i)
      tokens.push_back(sampler.sample(logits.data()));
    return tokens;
  };
  EXPECT_EQ(draw(99), draw(99));
  EXPECT_NE(draw(99), draw(100));
}

TEST(Sampler, NaNAndInfinityNeverCrash) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> withNaN = {nan, 1.0f, nan, 3.0f};
  Sampler sampler(withNaN.size(), opts(1.0, 0, 0.9, 1));
  for (int i = 0; i < 100; ++i) {
    int32_t token = sampler.sample(withNaN.data());
    EXPECT_TRUE(token == 1 || token == 3);
  }
  const std::vector<float> withInf = {0.0f, inf, 1.0f, 2.0f};
  EXPECT_EQ(sampler.sample(withInf.data()), 1);
  const std::vector<float> allNaN = {nan, nan, nan, nan};
  int32_t token = sampler.sample(allNaN.data());
  EXPECT_TRUE(token >= 0 && token < 4);
}

} // namespace

// The top list a model returns: the k largest, larger first, the lower id
// first among equals, NaN as -inf (ModelABI.h), computed here by a full
// sort, independently of the sampler.
static void topList(const std::vector<float> &row, size_t k,
                    std::vector<float> &logits, std::vector<int32_t> &ids) {
  std::vector<int32_t> order(row.size());
  for (size_t i = 0; i < row.size(); ++i)
    order[i] = static_cast<int32_t>(i);
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

TEST(Sampler, SamplesFromTopOnlyWhereTheListCoversTopK) {
  auto sampler = [](double t, int64_t k) {
    return Sampler(100, opts(t, k, 0.9));
  };
  EXPECT_TRUE(sampler(0.8, 40).samplesFromTop(64));
  EXPECT_TRUE(sampler(0.8, 64).samplesFromTop(64));
  EXPECT_FALSE(sampler(0.8, 65).samplesFromTop(64)); // past the list
  EXPECT_FALSE(sampler(0.8, 0).samplesFromTop(64));  // top-k off: the row
  EXPECT_FALSE(sampler(0, 40).samplesFromTop(64));   // greedy: the argmax
  // top-k of the whole vocabulary: sample's draw runs in id order, not the
  // list's.
  EXPECT_FALSE(Sampler(40, opts(0.8, 40, 0.9)).samplesFromTop(40));
}

// Over rows with ties, NaN and infinities, the model's draw from the row's
// top list (ModelABI.h's rules, reference_draw.h) gives the token the
// sampler gives from the row, draw for draw (the draw given the number the
// sampler's generator would take), for several top-k and top-p.
TEST(Sampler, ModelDrawFromTopPicksWhatSamplePicks) {
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
        std::vector<float> logits;
        std::vector<int32_t> ids;
        topList(row, 64, logits, ids);
        const uint64_t seed = trial * 131 + k * 7 + static_cast<int>(p * 10);
        const SamplerOptions options = opts(1.3, k, p, seed);
        Sampler fromRow(300, options);
        Sampler generator(300, options); // the numbers the model is given
        ASSERT_TRUE(fromRow.samplesFromTop(64));
        for (int draw = 0; draw < 5; ++draw) {
          const double settings[4] = {options.temperature,
                                      static_cast<double>(options.topK),
                                      options.topP, generator.uniform()};
          ASSERT_EQ(fromRow.sample(row.data()),
                    reference_draw(logits.data(), ids.data(), 64, settings))
              << "trial " << trial << " k " << k << " p " << p;
        }
      }
  }
}
