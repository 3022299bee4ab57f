//===- LlamaOps.cpp - llama dialect verifiers -------------------*- C++ -*-===//
//
// Shape checks across operands. ODS already checks ranks, element kinds and
// static shapes; these check that the dims agree, naming each dim.
//
//===----------------------------------------------------------------------===//
#include "llama/LlamaOps.h"

using namespace mlir;
using namespace mlir::llama;

#define GET_OP_CLASSES
#include "llama/LlamaOps.cpp.inc"

namespace {
/// Shapes print as "4x8x64" in messages, the way they appear in the IR.
std::string shapeStr(ShapedType type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(type.getShape(), os, "x");
  return s;
}

/// Checks that an activation is [batch, seq, features] with the given batch
/// and seq; `what` names the operand in the message.
LogicalResult verifyBatchSeq(Operation *op, StringRef what, ShapedType type,
                             int64_t batch, int64_t seq) {
  if (type.getDimSize(0) != batch || type.getDimSize(1) != seq)
    return op->emitOpError() << what << " must be [batch=" << batch
                             << ", seq=" << seq << ", ...], got "
                             << shapeStr(type);
  return success();
}
/// A kernel op (destination-style) takes tensors and returns its inits'
/// types, or takes buffers and returns nothing.
LogicalResult verifyKernelForm(DestinationStyleOpInterface op) {
  auto all = [&](auto isKind) {
    return llvm::all_of(op->getOperandTypes(), isKind);
  };
  bool tensors = all([](Type t) { return isa<RankedTensorType>(t); });
  bool buffers = all([](Type t) { return isa<MemRefType>(t); });
  bool ok = tensors ? TypeRange(op->getResultTypes()) ==
                          TypeRange(ValueRange(op.getDpsInits()))
                    : buffers && op->getNumResults() == 0;
  if (!ok)
    return op->emitOpError() << "takes tensors and returns its inits' types, "
                                "or takes buffers and returns nothing";
  return success();
}
} // namespace

LogicalResult WeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param =
      symbolTable.lookupNearestSymbolFrom<ParamOp>(*this, getParamAttr());
  if (!param)
    return emitOpError() << "names " << getParamAttr()
                         << ", which is not a llama.param";
  if (param.getType() != getType())
    return emitOpError() << "result type " << getType()
                         << " differs from the declared type "
                         << param.getType() << " of " << getParamAttr();
  return success();
}

LogicalResult EmbeddingOp::verify() {
  ShapedType table = getTable().getType(), tokens = getTokens().getType(),
             result = getResult().getType();
  if (result.getDimSize(0) != tokens.getDimSize(0) ||
      result.getDimSize(1) != tokens.getDimSize(1) ||
      result.getDimSize(2) != table.getDimSize(1))
    return emitOpError() << "result must be [batch, seq] of the tokens ("
                         << shapeStr(tokens) << ") by hidden of the table ("
                         << table.getDimSize(1) << "), got "
                         << shapeStr(result);
  return success();
}

LogicalResult RMSNormOp::verify() {
  int64_t hidden = getInput().getType().getDimSize(2);
  int64_t weight = getWeight() ? getWeight().getType().getDimSize(0) : hidden;
  if (weight != hidden)
    return emitOpError() << "weight has " << weight
                         << " elements but the input's hidden dim is "
                         << hidden;
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError() << "epsilon must be > 0";
  return success();
}

LogicalResult LinearOp::verify() {
  ShapedType input = getInput().getType(), weight = getWeight().getType(),
             result = getResult().getType();
  if (weight.getDimSize(1) != input.getDimSize(2))
    return emitOpError() << "weight is [out=" << weight.getDimSize(0)
                         << ", in=" << weight.getDimSize(1)
                         << "] but the input has " << input.getDimSize(2)
                         << " features";
  if (failed(verifyBatchSeq(*this, "result", result, input.getDimSize(0),
                            input.getDimSize(1))))
    return failure();
  if (result.getDimSize(2) != weight.getDimSize(0))
    return emitOpError() << "result has " << result.getDimSize(2)
                         << " features but the weight has out="
                         << weight.getDimSize(0);
  return success();
}

LogicalResult RoPEOp::verify() {
  int64_t headDim = getHeadDim();
  int64_t features = getInput().getType().getDimSize(2);
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError() << "head_dim must be positive and even, got "
                         << headDim;
  if (features % headDim != 0)
    return emitOpError() << "input has " << features
                         << " features, not a multiple of head_dim "
                         << headDim;
  if (getPositions().getType().getDimSize(0) !=
      getInput().getType().getDimSize(0))
    return emitOpError() << "positions has "
                         << getPositions().getType().getDimSize(0)
                         << " entries but the batch is "
                         << getInput().getType().getDimSize(0);
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError() << "theta must be > 0";
  return success();
}

LogicalResult AttentionOp::verify() {
  ShapedType q = getQ().getType(), k = getK().getType(),
             cache = getCache().getType();
  int64_t batch = q.getDimSize(0), seq = q.getDimSize(1);
  int64_t layers = cache.getDimSize(0), headDim = getHeadDim(),
          kvHeads = getNumKVHeads();
  if (cache.getDimSize(1) != 2 || cache.getDimSize(2) != batch)
    return emitOpError() << "cache must be [layers, 2, batch=" << batch
                         << ", kv_heads, max_seq, head_dim], got "
                         << shapeStr(cache);
  if (headDim <= 0 || kvHeads <= 0)
    return emitOpError() << "cache has head_dim " << headDim
                         << " and kv_heads " << kvHeads
                         << "; both must be positive";
  // The attribute is a signless i64; its getter reads it as unsigned.
  const int64_t layer = static_cast<int64_t>(getLayer());
  if (layer < 0 || layer >= layers)
    return emitOpError() << "layer " << layer
                         << " is out of range for a cache of " << layers
                         << " layers";
  if (failed(verifyBatchSeq(*this, "k", k, batch, seq)))
    return failure();
  if (k.getDimSize(2) != kvHeads * headDim)
    return emitOpError() << "k has " << k.getDimSize(2)
                         << " features but the cache holds kv_heads="
                         << kvHeads << " x head_dim=" << headDim;
  if (q.getDimSize(2) % headDim != 0)
    return emitOpError() << "q has " << q.getDimSize(2)
                         << " features, not a multiple of head_dim "
                         << headDim;
  int64_t heads = getNumHeads();
  if (heads % kvHeads != 0)
    return emitOpError() << "num_heads " << heads
                         << " is not a multiple of num_kv_heads " << kvHeads;
  if (seq > getMaxSeqLen())
    return emitOpError() << "seq " << seq << " exceeds the cache's max_seq "
                         << getMaxSeqLen();
  if (getPositions().getType().getDimSize(0) != batch)
    return emitOpError() << "positions has "
                         << getPositions().getType().getDimSize(0)
                         << " entries but the batch is " << batch;
  return success();
}

LogicalResult LastRowsOp::verify() {
  ShapedType input = getInput().getType(), result = getResult().getType();
  if (getLengths().getType().getDimSize(0) != input.getDimSize(0))
    return emitOpError() << "lengths must have one entry a sequence ("
                         << input.getDimSize(0) << "), got "
                         << shapeStr(getLengths().getType());
  if (result.getElementType() != input.getElementType() ||
      result.getDimSize(0) != input.getDimSize(0) ||
      result.getDimSize(1) != 1 || result.getDimSize(2) != input.getDimSize(2))
    return emitOpError() << "result must be [batch, 1, features] of the "
                            "input's type "
                         << shapeStr(input) << ", got " << shapeStr(result);
  return success();
}

LogicalResult TopKOp::verify() {
  ShapedType logits = getLogits().getType();
  const int64_t k = getK(), vocab = logits.getDimSize(2);
  if (k > vocab)
    return emitOpError() << "k = " << k << " exceeds the row's " << vocab
                         << " logits";
  for (auto [what, type] :
       {std::pair<StringRef, ShapedType>{"values", getValues().getType()},
        {"ids", getIds().getType()}}) {
    if (failed(verifyBatchSeq(*this, what, type, logits.getDimSize(0),
                              logits.getDimSize(1))))
      return failure();
    if (type.getDimSize(2) != k)
      return emitOpError() << what << " must be [batch, seq, k=" << k
                           << "], got " << shapeStr(type);
  }
  if (getValues().getType().getElementType() != logits.getElementType())
    return emitOpError() << "values must have the logits' element type";
  return success();
}

LogicalResult TopKRowsOp::verify() {
  ShapedType input = getInput().getType(), values = getValuesInit().getType(),
             ids = getIdsInit().getType();
  if (!input.hasRank() || input.getRank() != 3 ||
      !input.getElementType().isF32() || !input.hasStaticShape())
    return emitOpError() << "input must be a static 3-D f32 tensor or buffer";
  auto rowsOf = [&](ShapedType type, Type element) {
    return type.hasRank() && type.getRank() == 3 &&
           type.getElementType() == element && type.hasStaticShape() &&
           type.getShape().drop_back() == input.getShape().drop_back() &&
           type.getDimSize(2) >= 1 && type.getDimSize(2) <= input.getDimSize(2);
  };
  Builder b(getContext());
  if (!rowsOf(values, b.getF32Type()) || !rowsOf(ids, b.getI32Type()) ||
      values.getDimSize(2) != ids.getDimSize(2))
    return emitOpError() << "inits must be [batch, seq, k] of f32 and of "
                            "i32, 1 <= k <= "
                         << input.getDimSize(2) << ", for the input "
                         << shapeStr(input) << ", got " << shapeStr(values)
                         << " and " << shapeStr(ids);
  return verifyKernelForm(*this);
}

LogicalResult SampleOp::verify() {
  ShapedType values = getValues().getType(), ids = getIds().getType(),
             settings = getSettings().getType(), next = getNext().getType();
  if (!values.getElementType().isF32())
    return emitOpError() << "values must be f32, got " << shapeStr(values);
  if (ids.getShape() != values.getShape())
    return emitOpError() << "ids must have the values' shape "
                         << shapeStr(values) << ", got " << shapeStr(ids);
  const int64_t batch = values.getDimSize(0), seq = values.getDimSize(1);
  if (settings.getDimSize(0) != batch || settings.getDimSize(1) != 4)
    return emitOpError() << "settings must be [batch=" << batch
                         << ", 4] (temperature, top-k, top-p, uniform), got "
                         << shapeStr(settings);
  if (next.getDimSize(0) != batch || next.getDimSize(1) != seq)
    return emitOpError() << "next must be [batch=" << batch << ", seq=" << seq
                         << "], got " << shapeStr(next);
  ShapedType logits = getLogits().getType();
  if (logits.getDimSize(0) != batch || logits.getDimSize(1) != seq ||
      logits.getDimSize(2) < values.getDimSize(2))
    return emitOpError() << "logits must be [batch=" << batch << ", seq=" << seq
                         << ", vocab >= " << values.getDimSize(2) << "], got "
                         << shapeStr(logits);
  return success();
}

LogicalResult SampleRowsOp::verify() {
  auto logits = dyn_cast<ShapedType>(getLogits().getType());
  auto values = dyn_cast<ShapedType>(getValues().getType());
  auto ids = dyn_cast<ShapedType>(getIds().getType());
  auto settings = dyn_cast<ShapedType>(getSettings().getType());
  auto init = dyn_cast<ShapedType>(getInit().getType());
  Builder b(getContext());
  auto is = [](ShapedType type, int64_t rank, Type element) {
    return type && type.hasRank() && type.getRank() == rank &&
           type.hasStaticShape() && type.getElementType() == element;
  };
  if (!is(values, 3, b.getF32Type()) || !is(ids, 3, b.getI32Type()) ||
      ids.getShape() != values.getShape() || !is(settings, 2, b.getF64Type()) ||
      !is(init, 2, b.getI32Type()) ||
      settings.getShape() != ArrayRef<int64_t>{values.getDimSize(0), 4} ||
      init.getShape() != values.getShape().drop_back() ||
      !is(logits, 3, b.getF32Type()) ||
      logits.getShape().drop_back() != values.getShape().drop_back() ||
      logits.getDimSize(2) < values.getDimSize(2))
    return emitOpError() << "takes [batch, seq, vocab] f32 logits, their "
                            "[batch, seq, k] f32 values and i32 ids, "
                            "[batch, 4] f64 settings and a [batch, seq] i32 "
                            "init, got "
                         << getLogits().getType() << ", "
                         << getValues().getType() << ", " << getIds().getType()
                         << ", " << getSettings().getType() << " and "
                         << getInit().getType();
  return verifyKernelForm(*this);
}

LogicalResult FlashAttentionOp::verify() {
  ShapedType q = getQ().getType(), keys = getKeys().getType(),
             values = getValues().getType(), init = getInit().getType();
  for (auto [what, type] : {std::pair<StringRef, ShapedType>{"q", q},
                            {"keys", keys},
                            {"values", values},
                            {"init", init}}) {
    if (!type.hasRank() || type.getRank() != 3 ||
        !type.getElementType().isF32())
      return emitOpError() << what << " must be a 3-D f32 tensor or buffer";
  }
  if (!q.hasStaticShape() || q.getShape() != init.getShape())
    return emitOpError() << "q and init must be [seq, heads, head_dim] of "
                            "one static shape, got "
                         << shapeStr(q) << " and " << shapeStr(init);
  if (keys.getShape() != values.getShape() || keys.isDynamicDim(0) ||
      keys.isDynamicDim(2))
    return emitOpError() << "keys and values must be [kv_heads, len, "
                            "head_dim] of one shape, only len dynamic";
  int64_t heads = getNumHeads(), kvHeads = getNumKVHeads();
  if (keys.getDimSize(2) != getHeadDim())
    return emitOpError() << "keys have head_dim " << keys.getDimSize(2)
                         << " but q has " << getHeadDim();
  if (kvHeads <= 0 || heads % kvHeads != 0)
    return emitOpError() << "heads " << heads
                         << " is not a multiple of kv_heads " << kvHeads;
  return verifyKernelForm(*this);
}

// On buffers a kernel op reads its inputs and writes its init; on tensors
// it has no memory effects.
static void kernelOpEffects(
    Operation *op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  auto dps = cast<DestinationStyleOpInterface>(op);
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (dps.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

void FlashAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  kernelOpEffects(*this, effects);
}

void SampleRowsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  kernelOpEffects(*this, effects);
}

void TopKRowsOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  kernelOpEffects(*this, effects);
}
