//===- ModelMemory.cpp - host memory for the host target --------*- C++ -*-===//
#include "llamac/runtime/ModelMemory.h"
#include "llamac/runtime/Buffer.h"

namespace llamac::rt {

ModelMemory::~ModelMemory() = default;

namespace {

class HostMemory final : public ModelMemory {
public:
  Status init(const llamac_model_info &info, const uint8_t *weightsSection) {
    const size_t batch = static_cast<size_t>(info.batch);
    const size_t chunk = static_cast<size_t>(maxCallTokens(info));
    const size_t vocab = static_cast<size_t>(info.vocab_size);
    // checkModel has ruled out overflow of these products.
    if (Status s = kvCacheBuffer_.allocate(
            static_cast<size_t>(info.kv_cache_floats) * sizeof(float),
            "KV cache");
        !s.ok())
      return s;
    const size_t rows = static_cast<size_t>(maxCallLogitsRows(info));
    if (Status s = logitsBuffer_.allocate(batch * rows * vocab * sizeof(float),
                                          "logits buffer");
        !s.ok())
      return s;
    if (Status s = tokensBuffer_.allocate(batch * chunk * sizeof(int32_t),
                                          "tokens buffer");
        !s.ok())
      return s;
    if (Status s = positionsBuffer_.allocate(batch * sizeof(int64_t),
                                             "positions buffer");
        !s.ok())
      return s;
    if (Status s =
            lengthsBuffer_.allocate(batch * sizeof(int64_t), "lengths buffer");
        !s.ok())
      return s;
    if (Status s = samplingBuffer_.allocate(batch * 4 * sizeof(double),
                                            "sampling settings");
        !s.ok())
      return s;
    if (Status s =
            nextBuffer_.allocate(batch * rows * sizeof(int32_t), "next tokens");
        !s.ok())
      return s;
    if (Status s = workspaceBuffer_.allocate(
            static_cast<size_t>(info.workspace_bytes), "workspace");
        !s.ok())
      return s;
    kvCache = kvCacheBuffer_.as<float>();
    logits = logitsBuffer_.as<float>();
    tokens = tokensBuffer_.as<int32_t>();
    positions = positionsBuffer_.as<int64_t>();
    lengths = lengthsBuffer_.as<int64_t>();
    sampling = samplingBuffer_.as<double>();
    next = nextBuffer_.as<int32_t>();
    workspace = workspaceBuffer_.as<uint8_t>();
    weights = weightsSection;
    return Status::success();
  }
  Status run(EntryPoint entry, bool /*replayable*/) override {
    entry(tokens, positions, lengths, sampling, kvCache, weights, logits, next,
          workspace);
    return Status::success();
  }
  Status readLogits(int64_t, int64_t, const float *&rows) override {
    rows = logits;
    return Status::success();
  }
  Status readNext(int64_t row, int32_t &token) override {
    token = next[row];
    return Status::success();
  }

private:
  Buffer kvCacheBuffer_, logitsBuffer_, tokensBuffer_, positionsBuffer_,
      lengthsBuffer_, samplingBuffer_, nextBuffer_, workspaceBuffer_;
};

} // namespace

Status makeHostMemory(const llamac_model_info &info, const uint8_t *weights,
                      std::unique_ptr<ModelMemory> &out) {
  auto memory = std::make_unique<HostMemory>();
  if (Status s = memory->init(info, weights); !s.ok())
    return s;
  out = std::move(memory);
  return Status::success();
}

} // namespace llamac::rt
