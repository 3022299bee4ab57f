//===- Importer.cpp - checkpoint -> llama dialect ---------------*- C++ -*-===//
//
// Emits the LLaMA decoder as written in transformers' modeling_llama.py: per
// layer, pre-norm attention with RoPE and a residual, then a pre-norm SwiGLU
// MLP with a residual; a final norm and the logits projection. Each op gets
// the Hugging Face module name as its location, so diagnostics and
// -mlir-print-debuginfo point back to the checkpoint.
//
//===----------------------------------------------------------------------===//
#include "llamac/frontend/Importer.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace llamac;
using namespace mlir;
using llvm::Expected;

namespace {
Type elementType(MLIRContext &context, DType dtype) {
  switch (dtype) {
  case DType::F32:
    return Float32Type::get(&context);
  case DType::F16:
    return Float16Type::get(&context);
  case DType::BF16:
    return BFloat16Type::get(&context);
  default:
    return {}; // Checkpoint::open rejected every other dtype.
  }
}

class ModelBuilder {
public:
  ModelBuilder(MLIRContext &context, const Checkpoint &checkpoint,
               const ImportOptions &options, int64_t ctxSize)
      : context_(context), builder_(&context), checkpoint_(checkpoint),
        config_(checkpoint.config()), options_(options), batch_(options.batch),
        ctxSize_(ctxSize) {}

  OwningOpRef<ModuleOp> build();

private:
  Location loc(const llvm::Twine &name) {
    return NameLoc::get(builder_.getStringAttr(name));
  }
  RankedTensorType activation(int64_t features) {
    return RankedTensorType::get({batch_, seq_, features},
                                 builder_.getF32Type());
  }
  void declareParams(ModuleOp module);
  Value weight(StringRef name);
  Value rmsNorm(Value x, StringRef weightName, Location loc);
  Value linear(Value x, StringRef weightName, Location loc);
  Value rope(Value x, Value positions, Location loc);
  Value decoderLayer(int64_t layer, Value x, Value positions, Value &cache);
  void buildForward(ModuleOp module, const EntryPoint &entry);

  MLIRContext &context_;
  OpBuilder builder_;
  const Checkpoint &checkpoint_;
  const LlamaConfig &config_;
  const ImportOptions &options_;
  int64_t batch_, ctxSize_;
  int64_t seq_ = 0; ///< Of the function being built.
  llvm::StringMap<RankedTensorType> paramTypes_;
};

void ModelBuilder::declareParams(ModuleOp module) {
  builder_.setInsertionPointToEnd(module.getBody());
  for (const ExpectedTensor &tensor : llamaTensorLayout(config_)) {
    const TensorInfo &info = *checkpoint_.find(tensor.name)->info;
    auto type = RankedTensorType::get(info.shape,
                                      elementType(context_, info.dtype));
    paramTypes_[tensor.name] = type;
    llama::ParamOp::create(builder_, loc(tensor.name), tensor.name, type,
                           /*offset=*/IntegerAttr(),
                           /*column_scale=*/FlatSymbolRefAttr());
  }
}

Value ModelBuilder::weight(StringRef name) {
  RankedTensorType type = paramTypes_.lookup(name);
  return llama::WeightOp::create(builder_, loc(name), type,
                                 FlatSymbolRefAttr::get(&context_, name));
}

Value ModelBuilder::rmsNorm(Value x, StringRef weightName, Location loc) {
  return llama::RMSNormOp::create(builder_, loc, x, weight(weightName),
                                  builder_.getF64FloatAttr(config_.rmsNormEps));
}

Value ModelBuilder::linear(Value x, StringRef weightName, Location loc) {
  RankedTensorType w = paramTypes_.lookup(weightName);
  return llama::LinearOp::create(builder_, loc, activation(w.getDimSize(0)), x,
                                 weight(weightName));
}

Value ModelBuilder::rope(Value x, Value positions, Location loc) {
  llama::RopeLlama3ScalingAttr scaling;
  if (const auto &s = config_.ropeScaling)
    scaling = llama::RopeLlama3ScalingAttr::get(
        &context_, APFloat(s->factor), APFloat(s->lowFreqFactor),
        APFloat(s->highFreqFactor), s->originalMaxPosition);
  return llama::RoPEOp::create(builder_, loc, x, positions,
                               builder_.getI64IntegerAttr(config_.headDim),
                               builder_.getF64FloatAttr(config_.ropeTheta),
                               scaling);
}

Value ModelBuilder::decoderLayer(int64_t layer, Value x, Value positions,
                                 Value &cache) {
  std::string p = "model.layers." + std::to_string(layer) + ".";
  Value h = rmsNorm(x, p + "input_layernorm.weight",
                    loc(p + "input_layernorm"));
  Value q = linear(h, p + "self_attn.q_proj.weight", loc(p + "self_attn.q_proj"));
  Value k = linear(h, p + "self_attn.k_proj.weight", loc(p + "self_attn.k_proj"));
  Value v = linear(h, p + "self_attn.v_proj.weight", loc(p + "self_attn.v_proj"));
  q = rope(q, positions, loc(p + "self_attn.rotary_emb.q"));
  k = rope(k, positions, loc(p + "self_attn.rotary_emb.k"));
  auto attention = llama::AttentionOp::create(
      builder_, loc(p + "self_attn"), q, k, v, cache, positions,
      builder_.getI64IntegerAttr(layer));
  cache = attention.getNewCache();
  Value o = linear(attention.getResult(), p + "self_attn.o_proj.weight",
                   loc(p + "self_attn.o_proj"));
  x = llama::AddOp::create(builder_, loc(p + "residual.attn"), x, o);

  h = rmsNorm(x, p + "post_attention_layernorm.weight",
              loc(p + "post_attention_layernorm"));
  Value gate = linear(h, p + "mlp.gate_proj.weight", loc(p + "mlp.gate_proj"));
  Value up = linear(h, p + "mlp.up_proj.weight", loc(p + "mlp.up_proj"));
  Value act = llama::SwiGLUOp::create(builder_, loc(p + "mlp.act_fn"), gate, up);
  Value down = linear(act, p + "mlp.down_proj.weight", loc(p + "mlp.down_proj"));
  return llama::AddOp::create(builder_, loc(p + "residual.mlp"), x, down);
}

OwningOpRef<ModuleOp> ModelBuilder::build() {
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(loc(checkpoint_.dir()), StringRef("llama"));
  const LlamaConfig &c = config_;
  (*module)->setAttr(
      "llama.config",
      llama::ModelConfigAttr::get(
          &context_, c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads,
          c.numKVHeads, c.headDim, c.vocabSize, c.maxPositionEmbeddings,
          c.tieWordEmbeddings, c.bosTokenId, c.eosTokenIds));
  (*module)->setAttr("llama.checkpoint",
                     builder_.getStringAttr(checkpoint_.dir()));
  declareParams(*module);
  for (const EntryPoint &entry : options_.entryPoints)
    buildForward(*module, entry);
  return module;
}

void ModelBuilder::buildForward(ModuleOp module, const EntryPoint &entry) {
  const LlamaConfig &c = config_;
  seq_ = entry.seqLen;
  auto tokens = RankedTensorType::get({batch_, seq_}, builder_.getI32Type());
  // positions[b]: the first token's; lengths[b]: the tokens of sequence b
  // in this call (the rest of its row of `tokens` is padding).
  auto positions = RankedTensorType::get({batch_}, builder_.getI64Type());
  auto lengths = positions;
  auto cache = RankedTensorType::get(
      {c.numLayers, 2, batch_, c.numKVHeads, ctxSize_, c.headDim},
      builder_.getF32Type());
  const bool lastRow = entry.lastRowLogits && seq_ > 1;
  const int64_t logitsRows = lastRow ? 1 : seq_;
  auto logits = RankedTensorType::get({batch_, logitsRows, c.vocabSize},
                                      builder_.getF32Type());
  const int64_t k = options_.samplingCandidates;
  auto topLogits =
      RankedTensorType::get({batch_, logitsRows, k}, builder_.getF32Type());
  auto topIds =
      RankedTensorType::get({batch_, logitsRows, k}, builder_.getI32Type());
  // settings[b]: sequence b's (temperature, top-k, top-p, uniform) for
  // llama.sample.
  auto settings = RankedTensorType::get({batch_, 4}, builder_.getF64Type());
  auto next =
      RankedTensorType::get({batch_, logitsRows}, builder_.getI32Type());
  auto funcType = builder_.getFunctionType(
      {tokens, positions, lengths, settings, cache}, {logits, next, cache});
  builder_.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder_, loc(entry.name), entry.name,
                                   funcType);
  Block *body = func.addEntryBlock();
  builder_.setInsertionPointToStart(body);

  Value cacheValue = body->getArgument(4);
  Value x = llama::EmbeddingOp::create(
      builder_, loc("model.embed_tokens"), activation(c.hiddenSize),
      weight("model.embed_tokens.weight"), body->getArgument(0));
  for (int64_t layer = 0; layer < c.numLayers; ++layer)
    x = decoderLayer(layer, x, body->getArgument(1), cacheValue);
  if (lastRow) {
    // Generation samples from the last row: the rest of the chunk's rows
    // need no norm and no lm_head (a 128k vocabulary's is the largest GEMM).
    seq_ = 1;
    x = llama::LastRowsOp::create(builder_, loc("model.last_rows"),
                                  activation(c.hiddenSize), x,
                                  body->getArgument(2));
  }
  x = rmsNorm(x, "model.norm.weight", loc("model.norm"));
  Value out = linear(x,
                     c.tieWordEmbeddings ? "model.embed_tokens.weight"
                                         : "lm_head.weight",
                     loc("lm_head"));
  // Each row's next token beside the logits, drawn from its best k (or,
  // top-k off or above k, from the row): a GPU then reads back one id a
  // step, not a row.
  auto top = llama::TopKOp::create(builder_, loc("next"), topLogits, topIds,
                                   out, builder_.getI64IntegerAttr(k));
  Value drawn =
      llama::SampleOp::create(builder_, loc("next"), next, out, top.getValues(),
                              top.getIds(), body->getArgument(3));
  func::ReturnOp::create(builder_, loc(entry.name),
                         ValueRange{out, drawn, cacheValue});
}
} // namespace

Expected<int64_t> llamac::resolveContextSize(const LlamaConfig &config,
                                             const ImportOptions &options) {
  if (options.ctxSize == 0)
    return std::min<int64_t>(config.maxPositionEmbeddings, 4096);
  if (options.ctxSize < 0 || options.ctxSize > config.maxPositionEmbeddings)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("--ctx-size {0} is out of range [1, {1}] "
                      "(max_position_embeddings)",
                      options.ctxSize, config.maxPositionEmbeddings));
  return options.ctxSize;
}

Expected<OwningOpRef<ModuleOp>>
llamac::importCheckpoint(MLIRContext &context, const Checkpoint &checkpoint,
                         const ImportOptions &options) {
  Expected<int64_t> ctxSize = resolveContextSize(checkpoint.config(), options);
  if (!ctxSize)
    return ctxSize.takeError();
  if (options.samplingCandidates < 1)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("--sampling-candidates {0} is out of range [1, {1}] "
                      "(the vocabulary size)",
                      options.samplingCandidates,
                      checkpoint.config().vocabSize));
  if (options.samplingCandidates > checkpoint.config().vocabSize)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("--sampling-candidates {0} exceeds the vocabulary size "
                      "{1}",
                      options.samplingCandidates,
                      checkpoint.config().vocabSize));
  if (options.batch < 1 || options.batch > 4096)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("--batch {0} is out of range [1, 4096]", options.batch));
  for (const EntryPoint &entry : options.entryPoints)
    if (entry.seqLen < 1 || entry.seqLen > *ctxSize)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          llvm::formatv("--seq-len {0} is out of range [1, {1}] (the context "
                        "size)",
                        entry.seqLen, *ctxSize));
  context.loadDialect<llama::LlamaDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module =
      ModelBuilder(context, checkpoint, options, *ctxSize).build();
  if (failed(verify(*module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: the imported module does "
                                   "not verify");
  return module;
}
