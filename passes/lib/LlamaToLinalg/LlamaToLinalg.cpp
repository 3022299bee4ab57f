//===- LlamaToLinalg.cpp - the llama-to-linalg pass -------------*- C++ -*-===//
//
// 1. Every function that reads weights gets the blob argument, and each
//    llama.weight becomes a view of it at the planned offset.
// 2. The KV cache becomes a memref argument updated in place: the function
//    no longer returns it, so bufferization needs no copy of the cache.
// 3. The remaining llama ops are rewritten by the patterns of LowerLayers,
//    LowerRoPE and LowerAttention (a full conversion: none may remain).
// 4. The llama.param declarations are erased.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llamac/passes/Passes.h"
#include "llama/LlamaOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/BitVector.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMATOLINALG
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;
using namespace llamac::lowering;

//===----------------------------------------------------------------------===//
// Shared builders
//===----------------------------------------------------------------------===//

Value llamac::lowering::empty(OpBuilder &b, Location loc,
                              ArrayRef<int64_t> shape, Type elementType,
                              ValueRange dynamicSizes) {
  return tensor::EmptyOp::create(b, loc, shape, elementType, dynamicSizes);
}

Value llamac::lowering::filled(OpBuilder &b, Location loc,
                               ArrayRef<int64_t> shape, double value,
                               ValueRange dynamicSizes) {
  Value init = empty(b, loc, shape, b.getF32Type(), dynamicSizes);
  Value scalar = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  return linalg::FillOp::create(b, loc, scalar, init).getResult(0);
}

Value llamac::lowering::generic(OpBuilder &b, Location loc, Value init,
                                ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                                AffineMap outputMap, unsigned numDims,
                                ArrayRef<unsigned> reductions,
                                BodyBuilder body) {
  SmallVector<utils::IteratorType> iterators(numDims,
                                             utils::IteratorType::parallel);
  for (unsigned dim : reductions)
    iterators[dim] = utils::IteratorType::reduction;
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(outputMap);
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        linalg::YieldOp::create(nested, nestedLoc,
                                body(nested, nestedLoc, args));
      });
  return op.getResult(0);
}

Value llamac::lowering::toF32(OpBuilder &b, Location loc, Value value) {
  auto type = cast<FloatType>(value.getType());
  if (type.isF32())
    return value;
  if (type.getWidth() < 32)
    return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, b.getF32Type(), value);
}

arith::FastMathFlagsAttr
llamac::lowering::reductionFastMath(MLIRContext *context) {
  return arith::FastMathFlagsAttr::get(
      context, arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
}

Value llamac::lowering::indexConst(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
/// Adds the blob argument to `func` and replaces each llama.weight with a
/// view at its param's offset (one view per param, at the entry).
LogicalResult materializeWeights(func::FuncOp func, ModuleOp module,
                                 int64_t blobBytes) {
  SmallVector<llama::WeightOp> weights;
  func.walk([&](llama::WeightOp op) { weights.push_back(op); });
  if (weights.empty())
    return success();

  MLIRContext *context = func.getContext();
  auto blobType = MemRefType::get({blobBytes}, IntegerType::get(context, 8));
  unsigned blobIndex = func.getNumArguments();
  if (failed(func.insertArgument(blobIndex, blobType, {}, func.getLoc())))
    return failure();
  // No kernel of a call writes the weights: a GPU kernel may read them
  // before it waits for the kernels before it (llama-map-to-gpu).
  func.setArgAttr(blobIndex, llama::LlamaDialect::getWeightsArgAttrName(),
                  UnitAttr::get(context));
  Value blob = func.getArgument(blobIndex);

  // All views are created before any weight op is erased: an insertion
  // point is an iterator to the next op, which may be a weight op.
  OpBuilder b = OpBuilder::atBlockBegin(&func.front());
  llvm::DenseMap<StringAttr, Value> viewOf;
  for (llama::WeightOp weight : weights) {
    StringAttr name = weight.getParamAttr().getAttr();
    if (viewOf.count(name))
      continue;
    auto param = module.lookupSymbol<llama::ParamOp>(name);
    if (!param.getOffset())
      return param.emitOpError() << "has no offset; run llama-plan-weights "
                                    "before llama-to-linalg";
    RankedTensorType type = param.getTensorType();
    Location loc = param.getLoc();
    Value offset = indexConst(b, loc, *param.getOffset());
    auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
    Value view =
        memref::ViewOp::create(b, loc, memrefType, blob, offset, ValueRange{});
    viewOf[name] = bufferization::ToTensorOp::create(
        b, loc, type, view, /*restrict=*/true, /*writable=*/false);
  }
  for (llama::WeightOp weight : weights) {
    weight.replaceAllUsesWith(viewOf.lookup(weight.getParamAttr().getAttr()));
    weight.erase();
  }
  return success();
}

/// Whether `value` is the updated cache of a llama.attention (its result
/// #1, not the attention output).
bool isUpdatedCache(Value value) {
  auto attention = value.getDefiningOp<llama::AttentionOp>();
  return attention && attention.getNewCache() == value;
}

/// The function argument whose value `cache` is, through a chain of
/// llama.attention cache updates; null if it does not start at an argument.
BlockArgument cacheArgumentOf(Value cache) {
  while (isUpdatedCache(cache))
    cache = cache.getDefiningOp<llama::AttentionOp>().getCache();
  return dyn_cast<BlockArgument>(cache);
}

/// Turns each returned KV cache (an updated argument) into an in-place
/// update of a memref argument: the argument becomes a memref read through
/// `to_tensor restrict writable`, the final cache is materialized into it,
/// and the result is dropped from the signature.
LogicalResult passCachesInPlace(func::FuncOp func) {
  if (func.isExternal())
    return success();
  auto ret = cast<func::ReturnOp>(func.front().getTerminator());
  llvm::BitVector dropped(ret.getNumOperands());
  for (OpOperand &operand : ret->getOpOperands()) {
    if (!isUpdatedCache(operand.get()))
      continue;
    BlockArgument arg = cacheArgumentOf(operand.get());
    if (!arg || arg.getOwner() != &func.front())
      return ret.emitOpError() << "returns a KV cache that is not an update "
                                  "of one of the function's arguments";
    auto tensorType = cast<RankedTensorType>(arg.getType());
    auto memrefType =
        MemRefType::get(tensorType.getShape(), tensorType.getElementType());
    arg.setType(memrefType);
    OpBuilder b = OpBuilder::atBlockBegin(&func.front());
    auto asTensor = bufferization::ToTensorOp::create(
        b, arg.getLoc(), tensorType, arg, /*restrict=*/true, /*writable=*/true);
    arg.replaceAllUsesExcept(asTensor, asTensor);
    b.setInsertionPoint(ret);
    auto store = bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, operand.get(), arg);
    store.setRestrict(true);
    store.setWritable(true);
    dropped.set(operand.getOperandNumber());
  }
  if (dropped.none())
    return success();
  ret->eraseOperands(dropped);
  func.setType(FunctionType::get(func.getContext(),
                                 func.front().getArgumentTypes(),
                                 ret.getOperandTypes()));
  return success();
}

/// The lowerings compute in f32 and produce f32 tensors; other activation
/// or cache types get a clear error here rather than a failed conversion.
LogicalResult checkComputeTypes(ModuleOp module) {
  WalkResult result = module.walk([](Operation *op) {
    if (!isa<llama::LlamaDialect>(op->getDialect()) ||
        isa<llama::ParamOp, llama::WeightOp, llama::TopKOp, llama::SampleOp>(
            op))
      return WalkResult::advance();
    for (OpResult value : op->getResults()) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (type && !type.getElementType().isF32()) {
        op->emitOpError() << "result #" << value.getResultNumber() << " is "
                          << type
                          << "; llama-to-linalg lowers f32 activations and "
                             "KV caches only";
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

struct LlamaToLinalgPass
    : llamac::impl::LlamaToLinalgBase<LlamaToLinalgPass> {
  using LlamaToLinalgBase::LlamaToLinalgBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkComputeTypes(module)))
      return signalPassFailure();
    auto bytesAttr = module->getAttrOfType<IntegerAttr>("llama.weights_bytes");
    int64_t blobBytes = bytesAttr ? bytesAttr.getInt() : 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      bool readsWeights = false;
      func.walk([&](llama::WeightOp) { readsWeights = true; });
      if (readsWeights && !bytesAttr) {
        module.emitError() << "llama-to-linalg: the module has no "
                              "llama.weights_bytes; run llama-plan-weights "
                              "first";
        return signalPassFailure();
      }
      if (failed(materializeWeights(func, module, blobBytes)) ||
          failed(passCachesInPlace(func)))
        return signalPassFailure();
    }

    ConversionTarget target(getContext());
    target.addIllegalDialect<llama::LlamaDialect>();
    target.addLegalOp<llama::ParamOp, llama::FlashAttentionOp,
                      llama::TopKRowsOp, llama::SampleRowsOp>();
    target.addLegalDialect<arith::ArithDialect, bufferization::BufferizationDialect,
                           linalg::LinalgDialect, math::MathDialect,
                           memref::MemRefDialect, scf::SCFDialect,
                           tensor::TensorDialect, func::FuncDialect>();
    RewritePatternSet patterns(&getContext());
    populateLayerLowerings(patterns);
    populateRoPELowering(patterns);
    populateAttentionLowering(patterns, flashAttention);
    populateTopKLowering(patterns, flashAttention);
    populateSampleLowering(patterns, flashAttention);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    for (auto param : llvm::make_early_inc_range(module.getOps<llama::ParamOp>()))
      param.erase();
  }
};
} // namespace
