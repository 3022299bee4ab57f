//===- MapToGPU.cpp - linalg on buffers -> one gpu.launch each --*- C++ -*-===//
//
// The first, plain mapping of the model onto an NVIDIA GPU: every linalg op
// of an entry point becomes a gpu.launch of one thread per output element.
// Its "thread" dimensions are the parallel loops that index every output;
// each thread runs the op's other loops (the reductions) itself, in order,
// as convert-linalg-to-loops would, and owns the output elements it writes,
// so no two threads race. Blocks are 256 threads over the flattened thread
// dimensions; a size known only at run time (the attention's key count)
// sizes the grid at run time.
//
// The entry point's own memory becomes device memory: memref.alloc and
// dealloc become gpu.alloc and dealloc, memref.copy becomes linalg.copy (and
// so a kernel), and constant globals a kernel reads are moved into the
// kernel (gpu-kernel-outlining then copies them into the gpu.module).
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "EntryMemrefs.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAMAPTOGPU
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

constexpr int64_t kBlockSize = 256;

/// Whether loop `dim` of `op` can be split over threads: a parallel loop
/// that every output is indexed by directly.
bool isThreadDim(linalg::LinalgOp op, unsigned dim) {
  if (op.getIteratorTypesArray()[dim] != utils::IteratorType::parallel)
    return false;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (!llvm::any_of(map.getResults(), [&](AffineExpr e) {
          auto d = dyn_cast<AffineDimExpr>(e);
          return d && d.getPosition() == dim;
        }))
      return false;
  }
  return true;
}

/// The indices of `operand` at the loop indices `ivs`.
SmallVector<Value> operandIndices(OpBuilder &b, Location loc,
                                  linalg::LinalgOp op, OpOperand *operand,
                                  ArrayRef<Value> ivs) {
  AffineMap map = op.getMatchingIndexingMap(operand);
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(affine::AffineApplyOp::create(
        b, loc, map.getSubMap({i}), ivs));
  return indices;
}

/// The op's body at loop indices `ivs`: loads of what it reads, its
/// payload, stores of what it yields.
void emitBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
              ArrayRef<Value> ivs) {
  IRMapping mapping;
  Block *body = op.getBlock();
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = body->getArgument(operand.getOperandNumber());
    if (arg.use_empty())
      continue;
    Value value = operand.get();
    if (!isa<MemRefType>(value.getType())) { // a scalar input
      mapping.map(arg, value);
      continue;
    }
    mapping.map(arg, memref::LoadOp::create(
                         b, loc, value,
                         operandIndices(b, loc, op, &operand, ivs)));
  }
  for (Operation &inner : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (auto [value, init] :
       llvm::zip(yield.getValues(), op.getDpsInitsMutable()))
    memref::StoreOp::create(b, loc, mapping.lookupOrDefault(value), init.get(),
                            operandIndices(b, loc, op, &init, ivs));
}

LogicalResult mapToLaunch(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics())
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Range> ranges = op.createLoopRanges(b, loc);
  SmallVector<Value> sizes;
  for (Range &range : ranges)
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  SmallVector<unsigned> threadDims, serialDims;
  for (unsigned d = 0; d < op.getNumLoops(); ++d)
    (isThreadDim(op, d) ? threadDims : serialDims).push_back(d);

  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value total = one;
  for (unsigned d : threadDims)
    total = b.createOrFold<arith::MulIOp>(loc, total, sizes[d]);
  // Small ops get one block of (a warp multiple of) their size.
  int64_t blockSize = kBlockSize;
  if (std::optional<int64_t> n = getConstantIntValue(total))
    blockSize = std::min<int64_t>(kBlockSize, std::max<int64_t>(
                                                  32, (*n + 31) / 32 * 32));
  Value block = arith::ConstantIndexOp::create(b, loc, blockSize);
  Value grid = arith::CeilDivUIOp::create(b, loc, total, block);
  auto launch =
      gpu::LaunchOp::create(b, loc, grid, one, one, block, one, one);

  b.setInsertionPointToStart(&launch.getBody().front());
  // Constant globals the op reads are read on the device.
  IRMapping globals;
  for (OpOperand &operand : op->getOpOperands())
    if (auto global = operand.get().getDefiningOp<memref::GetGlobalOp>())
      globals.map(operand.get(), b.clone(*global)->getResult(0));
  Value flat = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, block),
      launch.getThreadIds().x);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        flat, total);
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);

  b.setInsertionPointToStart(&guard.getThenRegion().front());
  SmallVector<Value> ivs(op.getNumLoops());
  // The last thread dimension varies fastest, so that neighbouring threads
  // write neighbouring elements.
  Value rest = flat;
  for (unsigned d : llvm::reverse(threadDims)) {
    ivs[d] = arith::RemUIOp::create(b, loc, rest, sizes[d]);
    rest = arith::DivUIOp::create(b, loc, rest, sizes[d]);
  }
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  for (unsigned d : serialDims) {
    auto loop = scf::ForOp::create(b, loc, zero, sizes[d], one);
    ivs[d] = loop.getInductionVar();
    b.setInsertionPointToStart(loop.getBody());
  }
  // Operands are read through the clones of moved globals.
  for (OpOperand &operand : op->getOpOperands())
    if (Value moved = globals.lookupOrNull(operand.get()))
      operand.set(moved);
  emitBody(b, loc, op, ivs);
  op->erase();
  return success();
}

struct LlamaMapToGPU
    : public llamac::impl::LlamaMapToGPUBase<LlamaMapToGPU> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llamac::recordEntryMemrefs(module);
    // Copies become kernels too.
    module.walk([](memref::CopyOp copy) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy->erase();
    });
    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<gpu::LaunchOp>())
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      if (failed(mapToLaunch(op)))
        return signalPassFailure();
    // The entry points' temporaries live on the device. gpu-to-llvm lowers
    // only the async forms, so each gets a stream of its own (the runtime's
    // one stream, see runtime/lib/cuda/MgpuRuntime.cpp).
    auto tokenType = gpu::AsyncTokenType::get(module.getContext());
    module.walk([&](memref::AllocOp alloc) {
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      Value stream = gpu::WaitOp::create(b, loc, tokenType, ValueRange{})
                         .getAsyncToken();
      auto device = gpu::AllocOp::create(
          b, loc, alloc.getType(), tokenType, ValueRange{stream},
          alloc.getDynamicSizes(), alloc.getSymbolOperands());
      gpu::WaitOp::create(b, loc, Type(), ValueRange{device.getAsyncToken()});
      alloc.replaceAllUsesWith(device.getMemref());
      alloc->erase();
    });
    module.walk([&](memref::DeallocOp dealloc) {
      OpBuilder b(dealloc);
      Location loc = dealloc.getLoc();
      Value stream = gpu::WaitOp::create(b, loc, tokenType, ValueRange{})
                         .getAsyncToken();
      auto done = gpu::DeallocOp::create(b, loc, tokenType, ValueRange{stream},
                                         dealloc.getMemref());
      gpu::WaitOp::create(b, loc, Type(), ValueRange{done.getAsyncToken()});
      dealloc->erase();
    });
  }
};

} // namespace
