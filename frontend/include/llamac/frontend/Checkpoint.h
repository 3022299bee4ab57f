//===- Checkpoint.h - a Hugging Face LLaMA checkpoint directory -*- C++ -*-===//
//
// config.json plus model.safetensors, or shards listed by
// model.safetensors.index.json. Every file is mmapped; tensors are located by
// name and checked against the shapes the config implies.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_CHECKPOINT_H
#define LLAMAC_FRONTEND_CHECKPOINT_H

#include "llamac/frontend/HFConfig.h"
#include "llamac/frontend/Safetensors.h"

#include "llvm/ADT/StringMap.h"

#include <memory>
#include <vector>

namespace llamac {

/// One tensor the LLaMA architecture needs, with the shape the config implies.
struct ExpectedTensor {
  std::string name;
  llvm::SmallVector<int64_t, 2> shape;
};

/// The tensors of LlamaForCausalLM in Hugging Face naming, in forward order.
/// Without lm_head.weight when the embeddings are tied.
std::vector<ExpectedTensor> llamaTensorLayout(const LlamaConfig &config);

struct LocatedTensor {
  const SafetensorsFile *file;
  const TensorInfo *info;
};

class Checkpoint {
public:
  /// Opens DIR: reads the config, maps every weight file, and checks that
  /// each tensor of llamaTensorLayout() is present with its shape and a
  /// supported dtype (F32, F16, BF16).
  static llvm::Expected<std::unique_ptr<Checkpoint>> open(llvm::StringRef dir);

  llvm::StringRef dir() const { return dir_; }
  const LlamaConfig &config() const { return config_; }
  const std::vector<std::unique_ptr<SafetensorsFile>> &files() const {
    return files_;
  }
  /// A tensor by its checkpoint name, or nullopt.
  std::optional<LocatedTensor> find(llvm::StringRef name) const;

private:
  Checkpoint() = default;
  llvm::Error mapFiles();
  llvm::Error mapIndexedShards(llvm::StringRef indexPath);
  llvm::Error checkLayout() const;

  std::string dir_;
  LlamaConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  llvm::StringMap<LocatedTensor> tensors_;
};

} // namespace llamac

#endif // LLAMAC_FRONTEND_CHECKPOINT_H
