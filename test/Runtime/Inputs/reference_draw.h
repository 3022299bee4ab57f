/*===- reference_draw.h - ModelABI.h's draw of `next`, for tests ----------===*
 *
 * The draw ModelABI.h (and llama.sample) specifies, from a top list of
 * `listed` pairs with settings (t, k, p, u), written out from that text
 * alone: the fake model draws with it, and the sampler's unit test checks
 * it against Sampler::sample on whole rows.
 *
 *===----------------------------------------------------------------------===*/
#ifndef LLAMAC_TEST_REFERENCE_DRAW_H
#define LLAMAC_TEST_REFERENCE_DRAW_H

#include <math.h>
#include <stdint.h>

#define REFERENCE_DRAW_MAX_LISTED 1024

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

#endif /* LLAMAC_TEST_REFERENCE_DRAW_H */
