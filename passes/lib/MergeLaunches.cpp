//===- MergeLaunches.cpp - independent kernels as one launch ----*- C++ -*-===//
//
// A decode step is hundreds of kernels, many of them a few blocks of
// elementwise work whose cost is the launch itself (~2 us each on an H100,
// even replayed from a CUDA graph). Kernels in a row that neither read nor
// write each other's outputs can run as one grid: blocks [0, gridA) run
// the first body, the rest the second. The dependence test works on the
// memrefs each launch captures from the host code, traced back to their
// allocation or entry argument.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "MemRefViews.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <optional>

namespace llamac {
#define GEN_PASS_DEF_LLAMAMERGELAUNCHES
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

std::optional<int64_t> constantIndex(Value value) {
  APInt result;
  if (value && matchPattern(value, m_ConstantInt(&result)))
    return result.getSExtValue();
  return std::nullopt;
}

/// Grid and block sizes of a launch this pass can merge: one-dimensional,
/// constant, no clusters, no dynamic shared memory, synchronous.
struct Shape {
  int64_t grid, block;
};

std::optional<Shape> mergeableShape(gpu::LaunchOp launch) {
  if (launch.hasClusterSize() || launch.getDynamicSharedMemorySize() ||
      launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      !launch.getBody().hasOneBlock())
    return std::nullopt;
  for (Value one : {launch.getGridSizeY(), launch.getGridSizeZ(),
                    launch.getBlockSizeY(), launch.getBlockSizeZ()})
    if (constantIndex(one) != 1)
      return std::nullopt;
  std::optional<int64_t> grid = constantIndex(launch.getGridSizeX());
  std::optional<int64_t> block = constantIndex(launch.getBlockSizeX());
  if (!grid || !block)
    return std::nullopt;
  return Shape{*grid, *block};
}

using llamac::isMemRefView;
using llamac::rootOf;

/// Whether `launch` only reads `value` (directly or through views it makes
/// of it).
bool isOnlyReadIn(Value value, gpu::LaunchOp launch) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (!launch->isAncestor(user))
      continue;
    if (isMemRefView(user)) {
      if (!isOnlyReadIn(user->getResult(0), launch))
        return false;
      continue;
    }
    if (isa<memref::LoadOp, vector::LoadOp, vector::TransferReadOp,
            memref::DimOp, memref::ExtractStridedMetadataOp>(user))
      continue;
    if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(user);
        copy && use.get() == copy.getSrc())
      continue;
    return false;
  }
  return true;
}

/// The memrefs a launch takes from the host code, each with whether the
/// launch writes it.
llvm::MapVector<Value, bool> capturedMemrefs(gpu::LaunchOp launch) {
  llvm::MapVector<Value, bool> captured;
  launch.getBody().walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (isa<MemRefType>(operand.getType()) && !captured.contains(operand) &&
          !launch.getBody().isAncestor(operand.getParentRegion()))
        captured[operand] = !isOnlyReadIn(operand, launch);
  });
  return captured;
}

/// The subview taken on `root` itself that `value` is, or reshapes of:
/// its ranges are then `value`'s elements in root's index space.
memref::SubViewOp subviewOn(Value value, Value root) {
  Operation *def = value.getDefiningOp();
  while (isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp>(def))
    def = def->getOperand(0).getDefiningOp();
  auto subview = dyn_cast_or_null<memref::SubViewOp>(def);
  return subview && subview.getSource() == root ? subview
                                                : memref::SubViewOp();
}

bool isAllocation(Value value) {
  Operation *def = value.getDefiningOp();
  return def && isa<memref::AllocOp, memref::AllocaOp, gpu::AllocOp>(def);
}

/// Whether two subviews of one root select ranges that are disjoint in some
/// dimension (static offsets, sizes and strides).
bool disjointSubviews(memref::SubViewOp a, memref::SubViewOp b) {
  for (auto [offsetA, sizeA, strideA, offsetB, sizeB, strideB] :
       llvm::zip(a.getStaticOffsets(), a.getStaticSizes(),
                 a.getStaticStrides(), b.getStaticOffsets(),
                 b.getStaticSizes(), b.getStaticStrides())) {
    if (llvm::any_of(ArrayRef<int64_t>{offsetA, sizeA, strideA, offsetB, sizeB,
                                       strideB},
                     ShapedType::isDynamic) ||
        sizeA == 0 || sizeB == 0)
      continue;
    int64_t lastA = offsetA + (sizeA - 1) * strideA;
    int64_t lastB = offsetB + (sizeB - 1) * strideB;
    if (lastA < offsetB || lastB < offsetA)
      return true;
  }
  return false;
}

/// Whether two memrefs of the host code may share bytes. Distinct entry
/// arguments are distinct buffers (the runtime's ABI).
bool mayOverlap(Value a, Value b) {
  Value rootA = rootOf(a), rootB = rootOf(b);
  if (rootA != rootB) {
    auto known = [](Value root) {
      return isa<BlockArgument>(root) || isAllocation(root);
    };
    return !known(rootA) || !known(rootB);
  }
  // Two subviews of the root itself (a reshape before a subview would put
  // its offsets in another index space): compare their ranges.
  memref::SubViewOp subviewA = subviewOn(a, rootA);
  memref::SubViewOp subviewB = subviewOn(b, rootB);
  return !subviewA || !subviewB || !disjointSubviews(subviewA, subviewB);
}

bool independent(gpu::LaunchOp first, gpu::LaunchOp second) {
  llvm::MapVector<Value, bool> a = capturedMemrefs(first);
  llvm::MapVector<Value, bool> b = capturedMemrefs(second);
  for (auto [valueA, writesA] : a)
    for (auto [valueB, writesB] : b)
      if ((writesA || writesB) && mayOverlap(valueA, valueB))
        return false;
  return true;
}

/// `name` of the merged kernel: the first's name, then what the second's
/// adds to the part they share ("..._self_attn_rotary_emb_q_map" and
/// "..._self_attn_transpose" give "..._rotary_emb_q_map_transpose").
std::string mergedName(StringRef a, StringRef b) {
  size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common])
    ++common;
  // Back to a word boundary.
  while (common > 0 && a[common - 1] != '_')
    --common;
  return (a + "_" + b.drop_front(common)).str();
}

/// Whether a launch of `shape` can run with `block` threads a block, the
/// threads past its own doing nothing: its own size, or a body without
/// barriers (which every thread of the block must reach) and, unless its
/// block is whole warps, without shuffles (which every lane must reach).
bool fitsBlock(gpu::LaunchOp launch, Shape shape, int64_t block) {
  if (shape.block == block)
    return true;
  bool wholeWarps = shape.block % 32 == 0;
  return shape.block < block &&
         !launch.getBody()
              .walk([&](Operation *op) {
                return isa<gpu::BarrierOp>(op) ||
                               (!wholeWarps && isa<gpu::ShuffleOp>(op))
                           ? WalkResult::interrupt()
                           : WalkResult::advance();
              })
              .wasInterrupted();
}

/// The body of `from` (of `shape`) cloned into `b`'s insertion point in
/// `into`, its block id x being `blockX`; threads past its own block size
/// skip it.
void cloneBody(OpBuilder &b, gpu::LaunchOp from, Shape shape,
               gpu::LaunchOp into, int64_t intoBlock, Value blockX) {
  Location loc = from.getLoc();
  if (shape.block < intoBlock) {
    Value inBlock = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, into.getThreadIds().x,
        arith::ConstantIndexOp::create(b, loc, shape.block));
    auto guard = scf::IfOp::create(b, loc, inBlock, /*withElse=*/false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
  }
  IRMapping mapping;
  gpu::KernelDim3 blocks = from.getBlockIds(), threads = from.getThreadIds();
  gpu::KernelDim3 intoBlocks = into.getBlockIds(),
                  intoThreads = into.getThreadIds();
  mapping.map(blocks.x, blockX);
  mapping.map(blocks.y, intoBlocks.y);
  mapping.map(blocks.z, intoBlocks.z);
  mapping.map(threads.x, intoThreads.x);
  mapping.map(threads.y, intoThreads.y);
  mapping.map(threads.z, intoThreads.z);
  // The body sees its own grid and block sizes.
  gpu::KernelDim3 grid = from.getGridSize(), block = from.getBlockSize();
  gpu::KernelDim3 intoGrid = into.getGridSize(),
                  intoBlockSize = into.getBlockSize();
  mapping.map(grid.x, arith::ConstantIndexOp::create(b, loc, shape.grid));
  mapping.map(grid.y, intoGrid.y);
  mapping.map(grid.z, intoGrid.z);
  mapping.map(block.x, arith::ConstantIndexOp::create(b, loc, shape.block));
  mapping.map(block.y, intoBlockSize.y);
  mapping.map(block.z, intoBlockSize.z);
  for (BlockArgument shared : from.getWorkgroupAttributions())
    mapping.map(shared,
                into.addWorkgroupAttribution(shared.getType(), shared.getLoc()));
  for (BlockArgument local : from.getPrivateAttributions())
    mapping.map(local,
                into.addPrivateAttribution(local.getType(), local.getLoc()));
  for (Operation &op : from.getBody().front().without_terminator())
    b.clone(op, mapping);
}

/// `names`: the module's kernel names, the merged one added.
gpu::LaunchOp merge(gpu::LaunchOp first, gpu::LaunchOp second, Shape a,
                    Shape b, llvm::StringSet<> &names) {
  OpBuilder builder(second);
  Location loc = builder.getFusedLoc({first.getLoc(), second.getLoc()});
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(builder, loc, v).getResult();
  };
  Value one = index(1);
  int64_t block = std::max(a.block, b.block);
  auto merged = gpu::LaunchOp::create(builder, loc, index(a.grid + b.grid), one,
                                      one, index(block), one, one);
  std::string name = mergedName(first.getFunctionAttr().getValue(),
                                second.getFunctionAttr().getValue());
  // Unique among the module's kernels (outlining names the kernel so).
  std::string unique = name;
  for (int n = 1; names.contains(unique); ++n)
    unique = name + "_" + std::to_string(n);
  name = unique;
  names.insert(name);
  auto symbol = FlatSymbolRefAttr::get(builder.getContext(), name);
  merged.setModuleAttr(symbol);
  merged.setFunctionAttr(symbol);

  builder.setInsertionPointToStart(&merged.getBody().front());
  Value blockX = merged.getBlockIds().x;
  Value split = arith::ConstantIndexOp::create(builder, loc, a.grid);
  Value inFirst = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult,
                                        blockX, split);
  auto branch = scf::IfOp::create(builder, loc, inFirst, /*withElse=*/true);
  builder.setInsertionPointToStart(&branch.getThenRegion().front());
  cloneBody(builder, first, a, merged, block, blockX);
  builder.setInsertionPointToStart(&branch.getElseRegion().front());
  cloneBody(builder, second, b, merged, block,
            arith::SubIOp::create(builder, loc, blockX, split));
  builder.setInsertionPointToEnd(&merged.getBody().front());
  gpu::TerminatorOp::create(builder, loc);
  first->erase();
  second->erase();
  return merged;
}

struct LlamaMergeLaunches
    : public llamac::impl::LlamaMergeLaunchesBase<LlamaMergeLaunches> {
  void runOnOperation() override {
    llvm::StringSet<> names;
    getOperation()->walk([&](gpu::LaunchOp launch) {
      if (launch.getFunctionAttr())
        names.insert(launch.getFunctionAttr().getValue());
    });
    getOperation()->walk([&](func::FuncOp func) {
      for (Block &block : func.getBody()) {
        gpu::LaunchOp previous;
        for (Operation *op = &block.front(); op;) {
          Operation *next = op->getNextNode();
          auto launch = dyn_cast<gpu::LaunchOp>(op);
          // Only pure ops and fresh allocations may stand between two
          // launches merged: the merged launch takes the second's place.
          if (!launch) {
            if (!isPure(op) && !isa<memref::AllocOp, gpu::AllocOp>(op))
              previous = {};
            op = next;
            continue;
          }
          std::optional<Shape> shapeA =
              previous ? mergeableShape(previous) : std::nullopt;
          std::optional<Shape> shapeB = mergeableShape(launch);
          int64_t block =
              shapeA && shapeB ? std::max(shapeA->block, shapeB->block) : 0;
          if (shapeA && shapeB && fitsBlock(previous, *shapeA, block) &&
              fitsBlock(launch, *shapeB, block) &&
              previous.getFunctionAttr() && launch.getFunctionAttr() &&
              independent(previous, launch))
            launch = merge(previous, launch, *shapeA, *shapeB, names);
          previous = launch;
          op = next;
        }
      }
    });
  }
};

} // namespace
