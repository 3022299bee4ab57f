//===- HFConfig.h - Hugging Face LLaMA config.json reader -------*- C++ -*-===//
//
// Reads the fields of a LlamaForCausalLM config.json that fix the model's
// shapes and numerics, applying the defaults of transformers' LlamaConfig,
// and rejects what llamac does not support with a message naming the field.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_HFCONFIG_H
#define LLAMAC_FRONTEND_HFCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace llamac {

/// `rope_scaling` with rope_type "llama3" (Llama 3.1 and later).
struct RopeScalingLlama3 {
  double factor = 8.0;
  double lowFreqFactor = 1.0;
  double highFreqFactor = 4.0;
  int64_t originalMaxPosition = 8192;
};

struct LlamaConfig {
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKVHeads = 0;
  int64_t headDim = 0; ///< hidden / heads unless config.json says otherwise.
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 2048;
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  std::optional<RopeScalingLlama3> ropeScaling;
  bool tieWordEmbeddings = false;
  int64_t bosTokenId = 1;
  std::vector<int64_t> eosTokenIds = {2};
  std::string torchDtype; ///< torch_dtype (or 5.x's dtype); "" when absent.
};

/// Parses the text of a config.json; `path` names it in error messages.
llvm::Expected<LlamaConfig> parseLlamaConfig(llvm::StringRef text,
                                             llvm::StringRef path);

/// Reads DIR/config.json.
llvm::Expected<LlamaConfig> readLlamaConfig(llvm::StringRef dir);

} // namespace llamac

#endif // LLAMAC_FRONTEND_HFCONFIG_H
