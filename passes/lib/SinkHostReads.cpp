//===- SinkHostReads.cpp - positions read by the kernels --------*- C++ -*-===//
//
// The host code of an entry point reads the positions to offset the KV-cache
// rows the kernels write and to size the keys the attention reads. Baked
// into kernel parameters at launch, those values would make every call's
// launches different, so a call could not be recorded once and replayed
// (a CUDA graph). Here each read, and the index arithmetic and views built
// on it, is cloned into the launches that use it: the kernels read the
// positions (pinned host memory the GPU maps) when they run. An entry point
// left with no host reads, constant grids and static buffers is listed in
// the module's `llama.replayable_entries`.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "MemRefViews.h"
#include "TmaLoads.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMASINKHOSTREADS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// Ops that compute an index or a view from their operands alone, and so
/// give the same result wherever they run.
bool isViewOrIndexArithmetic(Operation *op) {
  if (llamac::isMemRefView(op) || isa<memref::DimOp>(op))
    return true;
  return isa<arith::ArithDialect>(op->getDialect()) && isPure(op) &&
         op->getNumRegions() == 0;
}

/// What in an entry point's host code derives from a read of an entry
/// argument's memory, directly or through views and index arithmetic.
class HostReads {
public:
  explicit HostReads(func::FuncOp entry) : entry_(entry) {}

  bool derives(Value value) {
    Operation *op = value.getDefiningOp();
    if (!op || op->getParentOp() != entry_)
      return false;
    if (auto known = derives_.find(op); known != derives_.end())
      return known->second;
    bool result = false;
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      auto argument = dyn_cast<BlockArgument>(load.getMemRef());
      result = argument && argument.getOwner()->getParentOp() == entry_;
    } else if (isViewOrIndexArithmetic(op)) {
      result = llvm::any_of(op->getOperands(),
                            [&](Value operand) { return derives(operand); });
    }
    derives_[op] = result;
    return result;
  }

  /// The ops `value` is computed by that derive from a read, operands
  /// first.
  void collect(Value value, llvm::SetVector<Operation *> &ops) {
    if (!derives(value))
      return;
    Operation *op = value.getDefiningOp();
    if (ops.contains(op))
      return;
    for (Value operand : op->getOperands())
      collect(operand, ops);
    ops.insert(op);
  }

private:
  func::FuncOp entry_;
  llvm::DenseMap<Operation *, bool> derives_;
};

/// Clones into `launch` what its body uses of `reads`, and has the body use
/// the clones.
void sinkInto(gpu::LaunchOp launch, HostReads &reads) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  llvm::SetVector<Operation *> ops;
  for (Value value : captured)
    reads.collect(value, ops);
  if (ops.empty())
    return;
  // Program order: every op's operands are cloned before it.
  SmallVector<Operation *> ordered(ops.begin(), ops.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  OpBuilder builder = OpBuilder::atBlockBegin(&launch.getBody().front());
  IRMapping mapping;
  for (Operation *op : ordered)
    builder.clone(*op, mapping);
  for (Operation *op : ordered)
    for (Value result : op->getResults())
      replaceAllUsesInRegionWith(result, mapping.lookup(result),
                                 launch.getBody());
}

bool isConstant(Value value) { return value && matchPattern(value, m_Constant()); }

/// Whether this op of an entry point's host code does the same on every
/// call: no reads of memory, launches of constant shape, buffers of static
/// size.
bool isReplayable(Operation &op) {
  if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    return llvm::all_of(ValueRange{grid.x, grid.y, grid.z, block.x, block.y,
                                   block.z},
                        isConstant) &&
           (!launch.getDynamicSharedMemorySize() ||
            isConstant(launch.getDynamicSharedMemorySize()));
  }
  if (auto alloc = dyn_cast<gpu::AllocOp>(op))
    return alloc.getDynamicSizes().empty() && alloc.getSymbolOperands().empty();
  if (auto alloc = dyn_cast<memref::AllocOp>(op))
    return alloc.getDynamicSizes().empty();
  if (isa<gpu::WaitOp, gpu::DeallocOp, memref::DeallocOp, memref::GetGlobalOp,
          func::ReturnOp>(op))
    return true;
  // A GEMM's tensor map (the tma option): made from its operand's place and
  // shape, which every call shares (the runtime makes each map once).
  if (auto call = dyn_cast<func::CallOp>(op))
    return call.getCallee() == llamac::kTensorMapFunction;
  // Constants of any dialect (the wgmma kernels' zero accumulator, an
  // llvm.mlir.zero, is hoisted here by CSE; outlining sinks it back).
  if (op.hasTrait<OpTrait::ConstantLike>())
    return true;
  return isViewOrIndexArithmetic(&op) && !isa<memref::DimOp>(op);
}

struct LlamaSinkHostReads
    : public llamac::impl::LlamaSinkHostReadsBase<LlamaSinkHostReads> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Attribute> replayable;
    for (auto entry : module.getOps<func::FuncOp>()) {
      if (entry.isExternal())
        continue;
      HostReads reads(entry);
      entry.walk([&](gpu::LaunchOp launch) { sinkInto(launch, reads); });
      // The host's copies are left without users: drop them, last first.
      Block &body = entry.getBody().front();
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
        if (op.getNumResults() && op.use_empty() &&
            llvm::any_of(op.getResults(),
                         [&](Value result) { return reads.derives(result); }))
          op.erase();
      if (entry.getBody().hasOneBlock() &&
          llvm::all_of(body, [](Operation &op) { return isReplayable(op); }))
        replayable.push_back(entry.getSymNameAttr());
    }
    module->setAttr("llama.replayable_entries",
                    ArrayAttr::get(module.getContext(), replayable));
  }
};

} // namespace
