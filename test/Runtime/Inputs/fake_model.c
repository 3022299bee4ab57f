/*===- fake_model.c - a test double of a compiled model -------------------===*
 *
 * Implements ModelABI.h with "math" a test can check by hand, so that the
 * runtime is tested without the compiler. Linked with the real runtime into
 * fake-model-exe (and, built with FAKE_BATCH=2, fake-model-batch2-exe).
 *
 * The rules (test/Runtime/Inputs/fake_model_ref.py computes the same):
 *   - processing token t at position p stores t + 1 in kv_cache[p] (one float
 *     per position and sequence), then S = kv_cache[0] + ... + kv_cache[p];
 *   - the predicted next token is 15 (an EOS) if t == 13, else
 *     ((31 * S) ^ (7 * p)) % 15; its logit is 2.0, every other v gets
 *     ((7 * v + t) % 5) * 0.25, so greedy picks it and sampling varies,
 *     except the EOS ids, 15 and 14, which get -4.0 unless predicted (so
 *     that sampled runs are not all cut short).
 * A skipped position, a wrong position or a wrong token changes S and so the
 * output. The fake also checks what the runtime passes (weights bytes, token
 * and position ranges, no holes in the cache, the same input for every
 * sequence of a batch, a workspace of the size asked for) and exits with
 * code 3 and a "fake-model:" line if anything is off. FAKE_MODEL_TRACE=1
 * prints each call to stderr. Each row's next token is drawn as ModelABI.h
 * says (reference_draw.h) from its top list, the row's FAKE_TOP (4;
 *fake-model-top1-exe: 1) largest logits and their ids, larger first, the lower
 *id first among equals (the first the prediction), or from the row (top-k
 *off or past the list), with the call's sampling
 *settings; FAKE_MODEL_NO_LOGITS=1 leaves the logits unwritten (zeros) but not
 *the next tokens, so that only a runtime that takes the model's draws still
 * predicts right. Built with FAKE_LAST_ROW=1
 *(fake-model-lastrow-exe) its prefill writes one row a sequence, the token
 *lengths[b] - 1's, as an executable compiled without --logits-all; the rows
 *past lengths[b] are padding and get no logits. Built with FAKE_LONG=N
 *(fake-model-long-exe) it also defines llamac_prefill_long, of N tokens a call
 *(its info record names the entry; with FAKE_LONG_SYMBOL=0 the object lacks
 *it).
 *
 *===----------------------------------------------------------------------===*/
#include "llamac/abi/ModelABI.h"
#include "reference_draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FAKE_BATCH
#define FAKE_BATCH 1
#endif
#define VOCAB 16
#define CTX 30 /* not a multiple of CHUNK: the end of the context needs decode */
#define CHUNK 4
#define WEIGHTS 4096
#define WORKSPACE 1000 /* scribbled over by every call: it is scratch */
#define EOS_AFTER 13
#ifndef FAKE_LAST_ROW
#define FAKE_LAST_ROW 0
#endif
#ifndef FAKE_LONG
#define FAKE_LONG 0
#endif
#ifndef FAKE_LONG_SYMBOL
#define FAKE_LONG_SYMBOL 1
#endif
#ifndef FAKE_TOP
#define FAKE_TOP 4
#endif

const llamac_model_info llamac_model = {
    .abi_version = LLAMAC_ABI_VERSION,
    .vocab_size = VOCAB,
    .hidden_size = 8,
    .num_layers = 1,
    .num_heads = 2,
    .num_kv_heads = 1,
    .head_dim = 4,
    .ctx_size = CTX,
    .batch = FAKE_BATCH,
    .prefill_chunk = CHUNK,
    .bos_token_id = 1,
    .num_eos = 2,
    .eos_token_ids = {15, 14},
    .weights_bytes = WEIGHTS,
    .kv_cache_floats = FAKE_BATCH * CTX,
    .workspace_bytes = WORKSPACE,
    .prefill_logits_rows = FAKE_LAST_ROW ? 1 : CHUNK,
    .prefill_long_chunk = FAKE_LONG,
    .prefill_long_logits_rows = !FAKE_LONG      ? 0
                                : FAKE_LAST_ROW ? 1
                                                : FAKE_LONG,
    .sampling_candidates = FAKE_TOP,
};

static void die(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("fake-model: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  exit(3);
}

/* A wrong mapping offset or length shows up as a wrong byte. */
static void check_weights(const uint8_t *weights) {
  if (!weights)
    die("no weights");
  for (int i = 0; i < WEIGHTS; ++i)
    if (weights[i] != i % 251)
      die("weights byte %d is %d, expected %d", i, weights[i], i % 251);
}

/* The row's FAKE_TOP largest, by selection: the next best is the largest
 * after the last in the order (logit descending, id ascending). */
static void top_list(const float *row, float *top_logits, int32_t *top_ids) {
  for (int i = 0; i < FAKE_TOP; ++i) {
    int best = -1;
    for (int v = 0; v < VOCAB; ++v) {
      int after_last = i == 0 || row[v] < top_logits[i - 1] ||
                       (row[v] == top_logits[i - 1] && v > top_ids[i - 1]);
      if (after_last && (best < 0 || row[v] > row[best]))
        best = v;
    }
    top_logits[i] = row[best];
    top_ids[i] = best;
  }
}

/* One position of sequence b: the cache update, the logits row and the next
 * token drawn from its top list. */
static void step(int b, int32_t t, int64_t p, float *kv_cache, float *row,
                 const double *settings, int32_t *drawn) {
  if (t < 0 || t >= VOCAB)
    die("token %d out of the vocabulary", t);
  if (p < 0 || p >= CTX)
    die("position %lld out of the context", (long long)p);
  float *cache = kv_cache + (int64_t)b * CTX;
  for (int64_t q = 0; q < p; ++q)
    if (cache[q] == 0)
      die("position %lld processed before position %lld", (long long)p,
          (long long)q);
  cache[p] = (float)(t + 1);
  int64_t sum = 0;
  for (int64_t q = 0; q <= p; ++q)
    sum += (int64_t)cache[q];
  int next = t == EOS_AFTER ? 15 : (int)(((31 * sum) ^ (7 * p)) % 15);
  float computed[VOCAB];
  for (int v = 0; v < VOCAB; ++v)
    computed[v] = v == next ? 2.0f
                  : v >= 14 ? -4.0f
                            : (float)((7 * v + t) % 5) * 0.25f;
  float top_logits[FAKE_TOP];
  int32_t top_ids[FAKE_TOP];
  top_list(computed, top_logits, top_ids);
  if (settings[0] > 0 && !(settings[3] >= 0 && settings[3] < 1))
    die("sampling: u = %g is outside [0, 1)", settings[3]);
  *drawn =
      reference_next(computed, VOCAB, top_logits, top_ids, FAKE_TOP, settings);
  if (getenv("FAKE_MODEL_NO_LOGITS"))
    return;
  for (int v = 0; v < VOCAB; ++v)
    row[v] = computed[v];
}

static void run(const char *what, int64_t s, const int32_t *tokens,
                const int64_t *positions, const int64_t *lengths,
                const double *sampling, float *kv_cache, const uint8_t *weights,
                float *logits, int32_t *next, uint8_t *workspace) {
  if (!tokens || !positions || !lengths || !sampling || !kv_cache || !logits ||
      !next || !workspace)
    die("%s: a null buffer", what);
  check_weights(weights);
  /* A workspace smaller than asked for faults (or trips a sanitizer). */
  for (int i = 0; i < WORKSPACE; ++i)
    workspace[i] = (uint8_t)(i * 7 + positions[0]);
  if (getenv("FAKE_MODEL_TRACE")) {
    fprintf(stderr, "fake-model: %s at %lld:", what, (long long)positions[0]);
    for (int64_t i = 0; i < s; ++i)
      fprintf(stderr, " %d", tokens[i]);
    fprintf(stderr, " (%lld real)\n", (long long)lengths[0]);
  }
  const int lastRow = FAKE_LAST_ROW && s > 1;
  const int64_t rows = lastRow ? 1 : s;
  for (int b = 0; b < FAKE_BATCH; ++b) {
    if (positions[b] + s > CTX)
      die("%s: position %lld + %lld tokens runs past the context %d", what,
          (long long)positions[b], (long long)s, CTX);
    if (positions[b] != positions[0])
      die("%s: sequence %d is at position %lld, sequence 0 at %lld", what, b,
          (long long)positions[b], (long long)positions[0]);
    if (lengths[b] < 1 || lengths[b] > s)
      die("%s: sequence %d has length %lld, outside [1, %lld]", what, b,
          (long long)lengths[b], (long long)s);
    for (int64_t i = 0; i < s; ++i) {
      if (tokens[b * s + i] != tokens[i])
        die("%s: sequence %d has other tokens than sequence 0", what, b);
      /* Padding is processed too (later calls overwrite its cache rows). */
      int64_t row = lastRow ? 0 : i;
      float scratch[VOCAB];
      int32_t scratch_next;
      int keep = !lastRow || i == lengths[b] - 1;
      int64_t at = (int64_t)b * rows + row;
      step(b, tokens[b * s + i], positions[b] + i, kv_cache,
           keep ? logits + at * VOCAB : scratch, sampling + 4 * b,
           keep ? next + at : &scratch_next);
    }
  }
}

void llamac_decode(const int32_t *tokens, const int64_t *positions,
                   const int64_t *lengths, const double *sampling,
                   float *kv_cache, const uint8_t *weights, float *logits,
                   int32_t *next, uint8_t *workspace) {
  run("decode", 1, tokens, positions, lengths, sampling, kv_cache, weights,
      logits, next, workspace);
}

void llamac_prefill(const int32_t *tokens, const int64_t *positions,
                    const int64_t *lengths, const double *sampling,
                    float *kv_cache, const uint8_t *weights, float *logits,
                    int32_t *next, uint8_t *workspace) {
  run("prefill", CHUNK, tokens, positions, lengths, sampling, kv_cache, weights,
      logits, next, workspace);
}

#if FAKE_LONG && FAKE_LONG_SYMBOL
void llamac_prefill_long(const int32_t *tokens, const int64_t *positions,
                         const int64_t *lengths, const double *sampling,
                         float *kv_cache, const uint8_t *weights, float *logits,
                         int32_t *next, uint8_t *workspace) {
  run("prefill_long", FAKE_LONG, tokens, positions, lengths, sampling, kv_cache,
      weights, logits, next, workspace);
}
#endif
