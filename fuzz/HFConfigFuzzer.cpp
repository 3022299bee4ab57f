//===- HFConfigFuzzer.cpp - fuzz parseLlamaConfig -------------------------===//
//
// Fuzzes llamac::parseLlamaConfig with config.json text. Rejected inputs must
// come back as an llvm::Error; an accepted config must have the shape
// invariants the importer relies on (positive dims, GQA grouping, even head_dim).
//
//===----------------------------------------------------------------------===//
#include "FuzzCheck.h"
#include "llamac/frontend/HFConfig.h"

#include <cmath>
#include <cstddef>
#include <cstdint>

using namespace llamac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<LlamaConfig> config = parseLlamaConfig(text, "config.json");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }

  const LlamaConfig &c = *config;
  FUZZ_CHECK(c.hiddenSize > 0);
  FUZZ_CHECK(c.intermediateSize > 0);
  FUZZ_CHECK(c.numLayers > 0);
  FUZZ_CHECK(c.numHeads > 0);
  FUZZ_CHECK(c.numKVHeads > 0);
  FUZZ_CHECK(c.vocabSize > 0);
  FUZZ_CHECK(c.maxPositionEmbeddings > 0);
  FUZZ_CHECK(c.numHeads % c.numKVHeads == 0);
  FUZZ_CHECK(c.headDim > 0 && c.headDim % 2 == 0);
  // Products the importer forms (q/kv projection widths) stay far from
  // int64 overflow.
  FUZZ_CHECK(c.numHeads <= (int64_t(1) << 40) / c.headDim);
  FUZZ_CHECK(c.rmsNormEps > 0.0 && std::isfinite(c.rmsNormEps));
  FUZZ_CHECK(c.ropeTheta > 0.0 && std::isfinite(c.ropeTheta));
  if (c.ropeScaling) {
    const RopeScalingLlama3 &s = *c.ropeScaling;
    FUZZ_CHECK(s.factor >= 1.0 && std::isfinite(s.factor));
    FUZZ_CHECK(s.lowFreqFactor > 0.0 && std::isfinite(s.lowFreqFactor));
    FUZZ_CHECK(s.highFreqFactor > s.lowFreqFactor &&
               std::isfinite(s.highFreqFactor));
    FUZZ_CHECK(s.originalMaxPosition > 0);
  }
  FUZZ_CHECK(c.bosTokenId >= 0);
  for (int64_t eos : c.eosTokenIds)
    FUZZ_CHECK(eos >= 0);
  return 0;
}
