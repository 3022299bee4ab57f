//===- ModelMemory.h - where the compiled model's buffers live --*- C++ -*-===//
//
// The entry points take nine pointers (ModelABI.h). For the host target
// they are plain memory; for a CUDA target (info.cuda_arch != 0) the weights,
// the KV cache, the logits, the next tokens and the workspace are device
// memory, and the tokens, positions, lengths and sampling settings pinned
// host memory the host writes (run copies them to the device for an entry
// point whose kernels read them); the next token, or the rows of logits the
// host needs, are copied back after the call (readNext, readLogits).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_MODELMEMORY_H
#define LLAMAC_RUNTIME_MODELMEMORY_H

#include "llamac/abi/ModelABI.h"
#include "llamac/runtime/Model.h"
#include "llamac/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llamac::rt {

class ModelMemory {
public:
  virtual ~ModelMemory();

  // The buffers of one call: tokens [batch, S], positions [batch], lengths
  // [batch], sampling [batch, 4], logits [batch, R, vocab] with the call's S
  // and R (ModelABI.h), sized for the longest call (maxCallTokens,
  // maxCallLogitsRows); written and read by the host between calls.
  int32_t *tokens = nullptr;
  int64_t *positions = nullptr;
  int64_t *lengths = nullptr;
  double *sampling = nullptr;
  float *logits = nullptr;
  // The KV cache (zeroed) and the weights as the model reads them.
  float *kvCache = nullptr;
  const uint8_t *weights = nullptr;
  // Each row's next token [batch, R], drawn by the model with the call's
  // sampling settings.
  int32_t *next = nullptr;
  // The entry points' temporaries (info.workspace_bytes), allocated once.
  uint8_t *workspace = nullptr;

  // Calls `entry` on these buffers and waits until it has finished; a
  // device error is reported here. `replayable`: the compiler found that
  // the entry makes the same kernel launches on every call
  // (llamac_model_info::replayable), so a GPU records it once as a CUDA
  // graph and replays that.
  virtual Status run(EntryPoint entry, bool replayable) = 0;
  // Readies `entry` for its first call (a GPU records a replayable entry's
  // graph), so that load time, not the first call, pays for it.
  virtual Status prepare(EntryPoint /*entry*/, bool /*replayable*/) {
    return Status::success();
  }
  // After run: sequence 0's logits rows [first, first + count) of
  // the call, readable at rows + r * vocab for r in that range (`rows` is
  // row 0). Only those rows are copied off a GPU: one for a generation
  // step, all of a prompt's only where --logits-out asks.
  virtual Status readLogits(int64_t first, int64_t count,
                            const float *&rows) = 0;
  // After run: the token the model drew for sequence 0's row `row` of the
  // call (greedy: the row's argmax): 4 bytes off a GPU instead of a row.
  virtual Status readNext(int64_t row, int32_t &token) = 0;
  // Decoding ahead (a GPU, where decode is replayable): a decode call is
  // started before the host has read the token of the call before it, and
  // takes that token on the device, so that the GPU goes from step to step
  // without waiting for the host. Calls take turns on two input slots
  // (useInputs points tokens, positions, lengths and sampling at one), so
  // the host fills a slot while a call may still read the other's.
  virtual bool decodesAhead(bool /*replayable*/) const { return false; }
  virtual void useInputs(int /*slot*/) {}
  // Records what startDecode will replay (prepare's counterpart).
  virtual Status prepareDecodeAhead(EntryPoint /*entry*/) {
    return Status::success();
  }
  // Starts the decode call `entry` on `slot`'s inputs without waiting; with
  // `drawnTokens` its tokens [batch, 1] are the previous call's draws (its
  // `next`), not the slot's.
  virtual Status startDecode(EntryPoint /*entry*/, int /*slot*/,
                             bool /*drawnTokens*/) {
    return fail("this target does not decode ahead");
  }
  // Waits for the call started on `slot`; sequence 0's draw.
  virtual Status awaitDecode(int /*slot*/, int32_t & /*token*/) {
    return fail("this target does not decode ahead");
  }
  // Waits for every call started.
  virtual Status awaitAll() { return Status::success(); }
  // Where a GPU's memory went, part by part, as one line to print after
  // the statistics line; "" unless the environment sets
  // LLAMAC_GPU_MEMORY_REPORT=1 (and always for the host).
  virtual std::string memoryReport() { return {}; }
};

// Host memory; `weights` is the mmapped payload section.
Status makeHostMemory(const llamac_model_info &info, const uint8_t *weights,
                      std::unique_ptr<ModelMemory> &out);

// Device memory on the first CUDA GPU: opens the driver, checks the GPU's
// arch and free memory, uploads the weights. Every failure (no driver, no
// GPU, another arch, too little memory, an old driver) is one line.
Status makeCudaMemory(const llamac_model_info &info, const uint8_t *weights,
                      std::unique_ptr<ModelMemory> &out);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_MODELMEMORY_H
