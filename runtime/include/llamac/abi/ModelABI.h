/*===- ModelABI.h - the contract between llamac and its runtime ------------===*
 *
 * The one format the compiler and the runtime share, declared once: the
 * symbols the compiled model object defines, the model-info record, and the
 * payload (packed weights, tokenizer) appended to the executable or written
 * to a sidecar file. Plain C so that the runtime needs no compiler headers.
 * Bump LLAMAC_ABI_VERSION on any change.
 *
 *===----------------------------------------------------------------------===*/
#ifndef LLAMAC_ABI_MODELABI_H
#define LLAMAC_ABI_MODELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMAC_ABI_VERSION 9

/* The model-info record, emitted by the compiler as a constant array of
 * int64 named `llamac_model`; every field is an int64 so that the array
 * and the struct have the same layout. */
#define LLAMAC_MAX_EOS 8
typedef struct llamac_model_info {
  int64_t abi_version;      /* LLAMAC_ABI_VERSION */
  int64_t vocab_size;
  int64_t hidden_size;
  int64_t num_layers;
  int64_t num_heads;
  int64_t num_kv_heads;
  int64_t head_dim;
  int64_t ctx_size;         /* KV-cache length compiled in (max positions) */
  int64_t batch;            /* sequences per call */
  int64_t prefill_chunk;    /* tokens per sequence per prefill call */
  int64_t bos_token_id;
  int64_t num_eos;
  int64_t eos_token_ids[LLAMAC_MAX_EOS];
  int64_t weights_bytes;    /* size of the "weights" payload section */
  int64_t kv_cache_floats;  /* float32 elements of the KV cache */
  int64_t cuda_arch;        /* 0: the host CPU; 80, 86, 89, 90: the NVIDIA
                               arch (sm_NN) the kernels were compiled for,
                               and then every pointer of the entry points is
                               device-visible (see runtime/lib/cuda) */
  int64_t replayable;       /* LLAMAC_REPLAYABLE_* bits: the entry points
                               whose every call makes the same kernel
                               launches (a GPU replays one CUDA graph) */
  int64_t workspace_bytes;  /* the entry points' temporaries, at offsets
                               the compiler planned (llama-plan-workspace);
                               one buffer serves every entry point */
  int64_t prefill_logits_rows; /* rows of logits (and of next) a prefill call
                               writes a sequence: prefill_chunk (compiled
                               with --logits-all: one a token), or 1 (the
                               last real token's, lengths[b] - 1) */
  int64_t prefill_long_chunk;  /* tokens per sequence of llamac_prefill_long,
                                the entry for long prompts (> prefill_chunk),
                                or 0: the model has no such entry */
  int64_t prefill_long_logits_rows; /* as prefill_logits_rows, for
                               llamac_prefill_long: prefill_long_chunk or 1
                               (0 without the entry) */
  int64_t sampling_candidates; /* K: the (logit, id) pairs of each row's top
                               list, which the model draws the next token
                               from where 1 <= top-k <= K (as a sampler
                               that sorts the row would), 1 <= K <=
                               vocab_size; other top-k draw from the row */
} llamac_model_info;

#define LLAMAC_REPLAYABLE_DECODE 1
#define LLAMAC_REPLAYABLE_PREFILL 2
#define LLAMAC_REPLAYABLE_PREFILL_LONG 4

#define LLAMAC_MODEL_INFO_FIELDS (sizeof(llamac_model_info) / sizeof(int64_t))

extern const llamac_model_info llamac_model;

/* Entry points, bare-pointer convention (all shapes are static):
 *   tokens    int32  [batch, S]          token ids, each < vocab_size
 *   positions int64  [batch]             position of tokens[b][0]
 *   lengths   int64  [batch]             tokens of sequence b in this call,
 *                                       1 <= lengths[b] <= S; the rest of
 *                                       its row of tokens is padding
 *   sampling  double [batch, 4]          sequence b's (temperature, top_k,
 *                                       top_p, u) for next: u a uniform
 *                                       number in [0, 1) the caller draws;
 *                                       temperature <= 0: greedy; top_k
 *                                       outside [1, K]: drawn from the row
 *                                       (0: off); top_p >= 1: off
 *   kv_cache  float  [kv_cache_floats]   updated in place
 *   weights   uint8  [weights_bytes]     the "weights" payload section
 *   logits    float  [batch, R, vocab]   output
 *   next      int32  [batch, R]          output: each row's next token,
 *                                       drawn from the row's K largest
 *                                       logits where 1 <= top_k <= K, else
 *                                       from the whole row (NaN as -inf;
 *                                       llama.sample in the llama dialect
 *                                       says how): the row's argmax where
 *                                       greedy
 *   workspace uint8  [workspace_bytes]  scratch, 256-aligned; its contents
 *                                       need not survive between calls
 * with K = sampling_candidates, S = R = 1 for decode, S = prefill_chunk,
 * R = prefill_logits_rows for prefill (R = 1: row 0 is token lengths[b] -
 * 1's), and S = prefill_long_chunk, R = prefill_long_logits_rows for
 * prefill_long. The caller keeps positions[b] + S <= ctx_size.
 * llamac_prefill_long is defined only where prefill_long_chunk > 0 (the runtime
 * declares it weak). */
void llamac_decode(const int32_t *tokens, const int64_t *positions,
                   const int64_t *lengths, const double *sampling,
                   float *kv_cache, const uint8_t *weights, float *logits,
                   int32_t *next, uint8_t *workspace);
void llamac_prefill(const int32_t *tokens, const int64_t *positions,
                    const int64_t *lengths, const double *sampling,
                    float *kv_cache, const uint8_t *weights, float *logits,
                    int32_t *next, uint8_t *workspace);
void llamac_prefill_long(const int32_t *tokens, const int64_t *positions,
                         const int64_t *lengths, const double *sampling,
                         float *kv_cache, const uint8_t *weights, float *logits,
                         int32_t *next, uint8_t *workspace);

/* The payload: sections of bytes at the end of the executable (or in a
 * sidecar file EXE.weights), found through a trailer in the file's last
 * bytes:
 *
 *   ... | section data (each 4096-aligned) | section table | trailer
 *
 * Offsets are from the start of the file, so the runtime can mmap each
 * section in place. */
#define LLAMAC_PAYLOAD_MAGIC "LLAMACPL"
#define LLAMAC_PAYLOAD_VERSION 1
#define LLAMAC_PAYLOAD_ALIGN 4096

typedef struct llamac_payload_section {
  char name[24];   /* NUL-padded: "weights", "tokenizer.model", ... */
  uint64_t offset;
  uint64_t bytes;
} llamac_payload_section;

typedef struct llamac_payload_trailer {
  char magic[8];           /* LLAMAC_PAYLOAD_MAGIC, not NUL-terminated */
  uint32_t version;        /* LLAMAC_PAYLOAD_VERSION */
  uint32_t num_sections;
  uint64_t table_offset;   /* llamac_payload_section[num_sections] */
} llamac_payload_trailer;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LLAMAC_ABI_MODELABI_H */
