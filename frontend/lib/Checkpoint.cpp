//===- Checkpoint.cpp - a Hugging Face LLaMA checkpoint directory -*- C++ -*-===//
#include "llamac/frontend/Checkpoint.h"
#include "llamac/frontend/Json.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace llamac;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {
Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string join(StringRef dir, StringRef file) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  return std::string(path);
}

std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, ", ");
  os << "]";
  return s;
}
} // namespace

std::vector<ExpectedTensor> llamac::llamaTensorLayout(const LlamaConfig &c) {
  const int64_t hidden = c.hiddenSize, qDim = c.numHeads * c.headDim,
                kvDim = c.numKVHeads * c.headDim, ffn = c.intermediateSize;
  std::vector<ExpectedTensor> layout;
  layout.push_back({"model.embed_tokens.weight", {c.vocabSize, hidden}});
  for (int64_t i = 0; i < c.numLayers; ++i) {
    std::string prefix = "model.layers." + std::to_string(i) + ".";
    layout.push_back({prefix + "input_layernorm.weight", {hidden}});
    layout.push_back({prefix + "self_attn.q_proj.weight", {qDim, hidden}});
    layout.push_back({prefix + "self_attn.k_proj.weight", {kvDim, hidden}});
    layout.push_back({prefix + "self_attn.v_proj.weight", {kvDim, hidden}});
    layout.push_back({prefix + "self_attn.o_proj.weight", {hidden, qDim}});
    layout.push_back({prefix + "post_attention_layernorm.weight", {hidden}});
    layout.push_back({prefix + "mlp.gate_proj.weight", {ffn, hidden}});
    layout.push_back({prefix + "mlp.up_proj.weight", {ffn, hidden}});
    layout.push_back({prefix + "mlp.down_proj.weight", {hidden, ffn}});
  }
  layout.push_back({"model.norm.weight", {hidden}});
  if (!c.tieWordEmbeddings)
    layout.push_back({"lm_head.weight", {c.vocabSize, hidden}});
  return layout;
}

Expected<std::unique_ptr<Checkpoint>> Checkpoint::open(StringRef dir) {
  if (!llvm::sys::fs::is_directory(dir))
    return fail(dir + ": not a directory (expected a Hugging Face checkpoint "
                      "with config.json and *.safetensors)");
  std::unique_ptr<Checkpoint> checkpoint(new Checkpoint());
  checkpoint->dir_ = dir.str();
  Expected<LlamaConfig> config = readLlamaConfig(dir);
  if (!config)
    return config.takeError();
  checkpoint->config_ = std::move(*config);
  if (Error e = checkpoint->mapFiles())
    return std::move(e);
  if (Error e = checkpoint->checkLayout())
    return std::move(e);
  return checkpoint;
}

Error Checkpoint::mapFiles() {
  std::string single = join(dir_, "model.safetensors");
  std::string index = join(dir_, "model.safetensors.index.json");
  if (llvm::sys::fs::exists(single)) {
    Expected<std::unique_ptr<SafetensorsFile>> file =
        SafetensorsFile::open(single);
    if (!file)
      return file.takeError();
    for (const TensorInfo &info : (*file)->header().tensors)
      tensors_[info.name] = {file->get(), &info};
    files_.push_back(std::move(*file));
    return Error::success();
  }
  if (llvm::sys::fs::exists(index))
    return mapIndexedShards(index);
  return fail(dir_ + ": no model.safetensors or model.safetensors.index.json");
}

Error Checkpoint::mapIndexedShards(StringRef indexPath) {
  Expected<nlohmann::json> index = readJsonFile(indexPath, "");
  if (!index)
    return index.takeError();
  auto map = index->find("weight_map");
  if (!index->is_object() || map == index->end() || !map->is_object())
    return fail(indexPath + ": missing the \"weight_map\" object");

  llvm::StringMap<SafetensorsFile *> byFileName;
  for (auto &[tensor, fileJson] : map->items()) {
    if (!fileJson.is_string())
      return fail(indexPath + ": weight_map entry for " + jsonQuoted(tensor) +
                  " is not a file name");
    std::string fileName = fileJson.get<std::string>();
    // Shards live beside the index; a path elsewhere is a malformed index.
    if (fileName.empty() || llvm::sys::path::filename(fileName) != fileName ||
        fileName == "." || fileName == "..")
      return fail(indexPath + ": weight_map names " + jsonQuoted(fileName) +
                  ", which is not a file name in the checkpoint directory");
    SafetensorsFile *&file = byFileName[fileName];
    if (!file) {
      std::string shardPath = join(dir_, fileName);
      if (!llvm::sys::fs::exists(shardPath))
        return fail(shardPath + ": shard named by " +
                    llvm::sys::path::filename(indexPath) +
                    " does not exist");
      Expected<std::unique_ptr<SafetensorsFile>> opened =
          SafetensorsFile::open(shardPath);
      if (!opened)
        return opened.takeError();
      file = opened->get();
      files_.push_back(std::move(*opened));
    }
    const TensorInfo *info = file->header().find(tensor);
    if (!info)
      return fail(file->path() + ": has no tensor " + jsonQuoted(tensor) +
                  ", which " + llvm::sys::path::filename(indexPath) +
                  " maps to it");
    tensors_[tensor] = {file, info};
  }
  return Error::success();
}

Error Checkpoint::checkLayout() const {
  for (const ExpectedTensor &expected : llamaTensorLayout(config_)) {
    std::optional<LocatedTensor> found = find(expected.name);
    if (!found)
      return fail(dir_ + ": tensor " + jsonQuoted(expected.name) +
                  " is missing from the checkpoint");
    const TensorInfo &info = *found->info;
    if (llvm::ArrayRef<int64_t>(info.shape) !=
        llvm::ArrayRef<int64_t>(expected.shape))
      return fail(found->file->path() + ": tensor " + jsonQuoted(expected.name) +
                  " has shape " + shapeStr(info.shape) +
                  " but config.json implies " + shapeStr(expected.shape));
    if (info.dtype != DType::F32 && info.dtype != DType::F16 &&
        info.dtype != DType::BF16)
      return fail(found->file->path() + ": tensor " + jsonQuoted(expected.name) +
                  " has dtype " + dtypeName(info.dtype) +
                  "; llamac supports F32, F16 and BF16 checkpoints");
  }
  return Error::success();
}

std::optional<LocatedTensor> Checkpoint::find(StringRef name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    return std::nullopt;
  return it->second;
}
