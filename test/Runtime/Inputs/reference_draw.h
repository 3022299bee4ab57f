/*===- reference_draw.h - ModelABI.h's draw of `next`, for tests ----------===*
 *
 * The draw ModelABI.h (and llama.sample) specifies, written out from that
 * text alone: the fake model draws with it, the sampler's unit test checks
 * it against sampling by sorting and against the softmax's probabilities,
 * and reference-draw compares a compiled model's tokens with it.
 *
 * Two regimes, by top-k against the list length `listed` (K):
 *   - 1 <= k <= K: from the row's top list, in f64 sums in list order;
 *   - otherwise: from the whole row, in 63-bit fixed point (exact, so that
 *     the order a GPU adds in cannot change the token).
 *
 *===----------------------------------------------------------------------===*/
#ifndef LLAMAC_TEST_REFERENCE_DRAW_H
#define LLAMAC_TEST_REFERENCE_DRAW_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define REFERENCE_DRAW_MAX_LISTED 1024

/* The list regime: the token from a top list of `listed` pairs with
 * settings (t, k, p, u); greedy or a non-finite first value: the first. */
static inline int32_t reference_draw(const float *top_logits,
                                     const int32_t *top_ids, int listed,
                                     const double *settings) {
  const double t = settings[0], k = settings[1], p = settings[2],
               u = settings[3];
  if (!(t > 0) || !isfinite(top_logits[0]))
    return top_ids[0];
  const int n = k >= 1 && k <= listed ? (int)k : listed;
  double c[REFERENCE_DRAW_MAX_LISTED];
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    sum += (float)exp(((double)top_logits[i] - top_logits[0]) * (1 / t));
    c[i] = sum;
  }
  int m = n;
  if (p < 1 && n > 1)
    for (int i = 0; i < n; ++i)
      if (c[i] >= p * c[n - 1]) {
        m = i + 1;
        break;
      }
  for (int i = 0; i < m; ++i)
    if (u * c[m - 1] < c[i])
      return top_ids[i];
  return top_ids[m - 1];
}

/* The row regime's fixed point: weights are multiples of 2^-S with
 * S = 63 - (bits of vocab), so that a row's sum stays below 2^63. */
static inline int reference_row_shift(int64_t vocab) {
  int bits = 0;
  while (vocab >> bits)
    ++bits;
  return 63 - bits;
}

/* A row entry's weight: 0 for NaN, 1 at the maximum m, else
 * exp(f32(x - m) * s) in f32, s = f32(1 / t). */
static inline float reference_row_weight(float x, float m, float s) {
  if (isnan(x))
    return 0.0f;
  if (x == m)
    return 1.0f;
  return expf((x - m) * s);
}

/* A weight's order key (its bits: weights are >= 0) and fixed-point value
 * floor(w * 2^shift). */
static inline uint32_t reference_row_key(float w) {
  uint32_t key;
  memcpy(&key, &w, sizeof key);
  return key;
}
static inline uint64_t reference_row_fixed(float w, int shift) {
  return (uint64_t)ldexp((double)w, shift);
}

/* The largest key (weights <= 1 have keys below 2^30) whose entries at or
 * above it hold at least `target`: of count (by_mass 0) or of fixed-point
 * weight (by_mass 1). A bit at a time from the top. */
static inline uint32_t reference_row_threshold(const float *row, int64_t vocab,
                                               float m, float s, int by_mass,
                                               uint64_t target) {
  const int shift = reference_row_shift(vocab);
  uint32_t key = 0;
  for (int bit = 29; bit >= 0; --bit) {
    const uint32_t trial = key | (1u << bit);
    uint64_t held = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      const float w = reference_row_weight(row[i], m, s);
      if (reference_row_key(w) >= trial)
        held += by_mass ? reference_row_fixed(w, shift) : 1;
    }
    if (held >= target)
      key = trial;
  }
  return key;
}

/* Sum of the fixed-point weights whose key is at least `floor_key`. */
static inline uint64_t reference_row_mass(const float *row, int64_t vocab,
                                          float m, float s,
                                          uint32_t floor_key) {
  const int shift = reference_row_shift(vocab);
  uint64_t mass = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    const float w = reference_row_weight(row[i], m, s);
    if (reference_row_key(w) >= floor_key)
      mass += reference_row_fixed(w, shift);
  }
  return mass;
}

/* The row regime (top-k outside [1, listed]), tempered and with a finite
 * maximum m (the top list's first value):
 *   - the candidates: keys >= kappa, kappa the top-k count threshold
 *     where listed < k < vocab, else 0 (all);
 *   - the nucleus: keys >= pi, pi the threshold holding
 *     max(1, floor(p * mass(candidates))) of mass where p < 1, else kappa;
 *   - r = min(floor(u * mass(nucleus)), mass - 1); the first id of the
 *     nucleus (in id order) whose running mass exceeds r.
 * Ties at a threshold are all kept. */
static inline int32_t reference_draw_row(const float *row, int64_t vocab,
                                         float m, int listed,
                                         const double *settings) {
  const double t = settings[0], k = settings[1], p = settings[2],
               u = settings[3];
  const float s = (float)(1 / t);
  const int shift = reference_row_shift(vocab);
  uint32_t kappa = 0;
  if (k > listed && k < (double)vocab)
    kappa = reference_row_threshold(row, vocab, m, s, 0, (uint64_t)k);
  uint32_t pi = kappa;
  if (p < 1) {
    const uint64_t candidates = reference_row_mass(row, vocab, m, s, kappa);
    uint64_t target = p > 0 ? (uint64_t)(p * (double)candidates) : 0;
    if (target < 1)
      target = 1;
    pi = reference_row_threshold(row, vocab, m, s, 1, target);
  }
  const uint64_t nucleus = reference_row_mass(row, vocab, m, s, pi);
  uint64_t r = u > 0 ? (uint64_t)(u * (double)nucleus) : 0;
  if (r > nucleus - 1)
    r = nucleus - 1;
  uint64_t running = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    const float w = reference_row_weight(row[i], m, s);
    if (reference_row_key(w) < pi)
      continue;
    running += reference_row_fixed(w, shift);
    if (running > r)
      return (int32_t)i;
  }
  return -1; /* unreachable: the maximum's weight is 2^shift > r's excess */
}

/* `next` for one row: its top list (`listed` pairs) and the whole row. */
static inline int32_t reference_next(const float *row, int64_t vocab,
                                     const float *top_logits,
                                     const int32_t *top_ids, int listed,
                                     const double *settings) {
  const double t = settings[0], k = settings[1];
  if (!(t > 0) || !isfinite(top_logits[0]) || (k >= 1 && k <= listed))
    return reference_draw(top_logits, top_ids, listed, settings);
  return reference_draw_row(row, vocab, top_logits[0], listed, settings);
}

#endif /* LLAMAC_TEST_REFERENCE_DRAW_H */
