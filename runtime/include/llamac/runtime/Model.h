//===- Model.h - the compiled model as the runtime sees it -------*- C++
//-*-===//
//
// The info record and the entry points, bundled so that the runtime
// library itself references no model symbol (only main.cpp does): tests can
// link it without a model, and a bad record is caught before the first call.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_MODEL_H
#define LLAMAC_RUNTIME_MODEL_H

#include "llamac/abi/ModelABI.h"
#include "llamac/runtime/Status.h"

namespace llamac::rt {

using EntryPoint = void (*)(const int32_t *tokens, const int64_t *positions,
                            const int64_t *lengths, const double *sampling,
                            float *kvCache, const uint8_t *weights,
                            float *logits, int32_t *next, uint8_t *workspace);

struct CompiledModel {
  const llamac_model_info *info;
  EntryPoint decode;      // S = 1
  EntryPoint prefill;     // S = info->prefill_chunk
  EntryPoint prefillLong; // S = info->prefill_long_chunk; null without it
};

// The longest call's tokens and rows of logits a sequence: what the call
// buffers (tokens, logits, top lists) hold, every entry point sharing them.
int64_t maxCallTokens(const llamac_model_info &info);
int64_t maxCallLogitsRows(const llamac_model_info &info);

// Checks the record the compiler emitted (ABI version, positive sizes,
// buffer sizes that fit in memory) and that the entry points it names are
// there: a mismatch between a model object and this runtime must be an
// error line, not a wild write.
Status checkModel(const CompiledModel &model);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_MODEL_H
