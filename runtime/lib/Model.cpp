//===- Model.cpp - checks of the compiled model's info record ----*- C++ -*-===//
//
// The record is a constant the compiler wrote, so a bad field is a compiler
// or link mix-up; it is still reported as one error line, naming the field.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Model.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace llamac::rt {

static Status badField(const char *field, int64_t value) {
  return fail("the compiled model's info record is invalid: %s = %lld", field,
              static_cast<long long>(value));
}

int64_t maxCallTokens(const llamac_model_info &m) {
  return std::max(m.prefill_chunk, m.prefill_long_chunk);
}

int64_t maxCallLogitsRows(const llamac_model_info &m) {
  return std::max(m.prefill_logits_rows, m.prefill_long_logits_rows);
}

Status checkModel(const CompiledModel &model) {
  const llamac_model_info &m = *model.info;
  if (m.abi_version != LLAMAC_ABI_VERSION)
    return fail("the compiled model has ABI version %lld, this runtime "
                "expects %d",
                static_cast<long long>(m.abi_version), LLAMAC_ABI_VERSION);
  // Token ids travel as int32.
  if (m.vocab_size < 1 || m.vocab_size > INT32_MAX)
    return badField("vocab_size", m.vocab_size);
  if (m.ctx_size < 1 || m.ctx_size > INT32_MAX)
    return badField("ctx_size", m.ctx_size);
  if (m.batch < 1 || m.batch > 65536)
    return badField("batch", m.batch);
  // A chunk longer than the context is legal: every prompt then goes
  // through decode (see Generate.cpp).
  if (m.prefill_chunk < 1 || m.prefill_chunk > INT32_MAX)
    return badField("prefill_chunk", m.prefill_chunk);
  if (m.num_eos < 0 || m.num_eos > LLAMAC_MAX_EOS)
    return badField("num_eos", m.num_eos);
  if (m.weights_bytes < 0)
    return badField("weights_bytes", m.weights_bytes);
  if (m.workspace_bytes < 0)
    return badField("workspace_bytes", m.workspace_bytes);
  if (m.kv_cache_floats < 0 ||
      static_cast<uint64_t>(m.kv_cache_floats) > SIZE_MAX / sizeof(float))
    return badField("kv_cache_floats", m.kv_cache_floats);
  if (m.replayable &
      ~int64_t{LLAMAC_REPLAYABLE_DECODE | LLAMAC_REPLAYABLE_PREFILL |
               LLAMAC_REPLAYABLE_PREFILL_LONG})
    return badField("replayable", m.replayable);
  if (m.sampling_candidates < 1 || m.sampling_candidates > m.vocab_size)
    return badField("sampling_candidates", m.sampling_candidates);
  if (m.prefill_logits_rows != 1 && m.prefill_logits_rows != m.prefill_chunk)
    return badField("prefill_logits_rows", m.prefill_logits_rows);
  // The long entry: longer than the other, and there exactly where the
  // record says so.
  if (m.prefill_long_chunk != 0 && (m.prefill_long_chunk <= m.prefill_chunk ||
                                    m.prefill_long_chunk > INT32_MAX))
    return badField("prefill_long_chunk", m.prefill_long_chunk);
  if (m.prefill_long_chunk == 0
          ? m.prefill_long_logits_rows != 0
          : m.prefill_long_logits_rows != 1 &&
                m.prefill_long_logits_rows != m.prefill_long_chunk)
    return badField("prefill_long_logits_rows", m.prefill_long_logits_rows);
  if ((m.prefill_long_chunk != 0) != (model.prefillLong != nullptr))
    return fail("the compiled model's info record %s a long prefill entry "
                "(prefill_long_chunk = %lld) but the executable %s "
                "llamac_prefill_long",
                m.prefill_long_chunk ? "names" : "names no",
                static_cast<long long>(m.prefill_long_chunk),
                model.prefillLong ? "defines" : "lacks");
  // The tokens of the longest call: batch * chunk int32.
  size_t tokens = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(m.batch),
                             static_cast<size_t>(maxCallTokens(m)), &tokens) ||
      __builtin_mul_overflow(tokens, sizeof(int32_t), &tokens))
    return badField(m.prefill_long_chunk ? "prefill_long_chunk"
                                         : "prefill_chunk",
                    maxCallTokens(m));
  // The logits buffer of the longest call: batch * rows * vocab floats.
  size_t logits = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(m.batch),
                             static_cast<size_t>(maxCallLogitsRows(m)),
                             &logits) ||
      __builtin_mul_overflow(logits, static_cast<size_t>(m.vocab_size),
                             &logits) ||
      __builtin_mul_overflow(logits, sizeof(float), &logits))
    return badField(m.prefill_long_chunk ? "prefill_long_logits_rows"
                                         : "prefill_logits_rows",
                    maxCallLogitsRows(m));
  return Status::success();
}

} // namespace llamac::rt
