//===- TmaLoads.h - sm_90 tile loads by TMA ---------------------*- C++ -*-===//
//
// TensorCoreLinear.cpp's wgmma form with the tma option: a producer warp
// of the block, one thread of it, asks the TMA unit for each slice's two
// tiles (cp.async.bulk.tensor from a tensor map, the 128-byte swizzle the
// tiles are read with) once the stage is free, and the consumer warpgroups
// wait on the stage's "full" mbarrier, whose phase completes when the
// tiles' bytes have landed, and arrive on its "empty" mbarrier when their
// wgmmas are done reading it. No block barrier a slice, no thread
// computing a copy's address. The maps
// come from the runtime (llamacTensorMapBf16, TensorMaps.cpp), asked for by
// the entry's host code before the launch, and reach the kernel as a
// pointer to global memory.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_TMALOADS_H
#define LLAMAC_PASSES_TMALOADS_H

#include "KernelEmitter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace llamac {

/// The runtime function that makes (once) and returns a tensor map.
inline constexpr llvm::StringLiteral kTensorMapFunction = "llamacTensorMapBf16";

/// Whether a GEMM operand can be loaded by TMA with the box 1 x .. x rows x
/// depth: a bf16 memref of rank 2 to 5 whose last dimension is the depth
/// and whose other dimensions are `dims` in order, all but the last of
/// size 1 (one sequence: the rows are its second-to-last dimension).
inline bool isTmaOperand(mlir::linalg::LinalgOp op, mlir::OpOperand *operand,
                         llvm::ArrayRef<unsigned> dims, unsigned depthDim) {
  auto type = llvm::dyn_cast<mlir::MemRefType>(operand->get().getType());
  if (!type || !type.getElementType().isBF16() || type.getRank() < 2 ||
      type.getRank() > 5 || dims.empty())
    return false;
  mlir::AffineMap map = op.getMatchingIndexingMap(operand);
  if (map.getNumResults() != type.getRank() ||
      map.getDimPosition(map.getNumResults() - 1) != depthDim)
    return false;
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    if (map.getDimPosition(d) != dims[d] ||
        (d + 2 < type.getRank() && type.getDimSize(d) != 1))
      return false;
  return true;
}

/// Host code: the device address (!llvm.ptr) of `memref`'s tensor map.
inline mlir::Value hostTensorMap(Emitter &e, mlir::Value memref,
                                 int64_t boxRows, int64_t boxDepth) {
  using namespace mlir;
  auto type = llvm::cast<MemRefType>(memref.getType());
  auto unranked =
      UnrankedMemRefType::get(type.getElementType(), type.getMemorySpace());
  auto pointer = LLVM::LLVMPointerType::get(e.b.getContext());
  auto module =
      e.b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  auto callee = module.lookupSymbol<func::FuncOp>(kTensorMapFunction);
  if (!callee) {
    OpBuilder::InsertionGuard guard(e.b);
    e.b.setInsertionPointToStart(module.getBody());
    callee = func::FuncOp::create(
        e.b, e.loc, kTensorMapFunction,
        e.b.getFunctionType({unranked, e.b.getI64Type(), e.b.getI64Type()},
                            {pointer}));
    callee.setPrivate();
  }
  Value cast = memref::CastOp::create(e.b, e.loc, unranked, memref);
  return func::CallOp::create(e.b, e.loc, callee,
                              ValueRange{cast, e.i64(boxRows), e.i64(boxDepth)})
      .getResult(0);
}

/// A ring of `stages` stages, each with two mbarriers in the block's shared
/// memory (8 bytes each from `base`, a shared-window address: the full
/// barriers, then the empty ones): stage s's full barrier completes a phase
/// when the tiles loaded into it have arrived, its empty barrier when each
/// of the `consumerWarps` warps has released it.
struct TmaRing {
  Emitter &e;
  mlir::Value base; // i64
  int64_t stages;
  int64_t consumerWarps;

  /// The barriers' storage: 2 x stages i64.
  static int64_t barrierCount(int64_t stages) { return 2 * stages; }

  mlir::Value barrier(mlir::Value stage, bool empty = false) {
    using namespace mlir;
    Value slot = empty ? e.add(stage, e.index(stages)) : stage;
    Value offset = arith::IndexCastUIOp::create(e.b, e.loc, e.b.getI64Type(),
                                                e.mul(slot, e.index(8)));
    return LLVM::IntToPtrOp::create(
        e.b, e.loc, LLVM::LLVMPointerType::get(e.b.getContext(), 3),
        e.add(base, offset));
  }
  mlir::Value i32(mlir::Value index) {
    return mlir::arith::IndexCastUIOp::create(e.b, e.loc, e.b.getI32Type(),
                                              index);
  }
  mlir::Value constant32(int64_t v) {
    return mlir::arith::ConstantIntOp::create(e.b, e.loc, v, 32);
  }

  /// By `initializer` (one thread): a full barrier expects one arrival
  /// (the producer's, with the bytes), an empty one a release of each
  /// consumer warp.
  void init(mlir::Value initializer) {
    for (int64_t s = 0; s < stages; ++s) {
      mlir::NVVM::MBarrierInitOp::create(e.b, e.loc, barrier(e.index(s)),
                                         constant32(1), initializer);
      mlir::NVVM::MBarrierInitOp::create(
          e.b, e.loc, barrier(e.index(s), /*empty=*/true),
          constant32(consumerWarps), initializer);
    }
    mlir::NVVM::FenceMbarrierInitOp::create(e.b, e.loc);
  }

  /// The producer thread's loads into `stage`: for each (map, shared
  /// address, row) the box at (depth, row, 0, ..) of a map of `ranks[i]`
  /// dimensions; `bytes` the stage's total.
  void load(mlir::Value stage, int64_t bytes, mlir::Value depth,
            llvm::ArrayRef<mlir::Value> maps,
            llvm::ArrayRef<mlir::Value> destinations,
            llvm::ArrayRef<mlir::Value> rows, llvm::ArrayRef<int64_t> ranks) {
    using namespace mlir;
    Value bar = barrier(stage);
    NVVM::MBarrierArriveExpectTxOp::create(
        e.b, e.loc, Type(), bar, constant32(bytes), NVVM::MemScopeKind::CTA,
        /*relaxed=*/false, Value());
    auto shared = LLVM::LLVMPointerType::get(e.b.getContext(), 3);
    for (size_t i = 0; i < maps.size(); ++i) {
      SmallVector<Value> coordinates{i32(depth), i32(rows[i])};
      for (int64_t d = 2; d < ranks[i]; ++d)
        coordinates.push_back(constant32(0));
      // The block's own shared memory, as the instruction's shared::cluster
      // destination (LLVM's address space 7) takes it.
      Value destination = LLVM::AddrSpaceCastOp::create(
          e.b, e.loc, LLVM::LLVMPointerType::get(e.b.getContext(), 7),
          LLVM::IntToPtrOp::create(e.b, e.loc, shared, destinations[i]));
      NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
          e.b, e.loc, destination, maps[i], coordinates, bar, ValueRange{},
          Value(), Value(), NVVM::TMALoadMode::TILE, /*isCTAOnly=*/false,
          NVVM::CTAGroupKindAttr(), Value());
    }
  }

  /// The producer thread's loop: slice k of `slices` (at depth `first` + k
  /// `slice`) into stage k % stages at `destinations(stage)`, each once the
  /// consumers have released the stage's previous slice k - stages (the
  /// empty barrier's phase k / stages - 1; none in the first round). Only
  /// the split's slices: no load is in flight when the block ends.
  void produce(int64_t slices, mlir::Value first, int64_t slice, int64_t bytes,
               llvm::ArrayRef<mlir::Value> maps,
               llvm::ArrayRef<mlir::Value> rows, llvm::ArrayRef<int64_t> ranks,
               llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)>
                   destinations) {
    using namespace mlir;
    OpBuilder::InsertionGuard guard(e.b);
    auto loads =
        scf::ForOp::create(e.b, e.loc, e.index(0), e.index(slices), e.index(1));
    e.b.setInsertionPointToStart(loads.getBody());
    Value k = loads.getInductionVar();
    Value stage = e.rem(k, e.index(stages));
    Value round = e.div(k, e.index(stages));
    auto reuse = scf::IfOp::create(e.b, e.loc, e.lt(e.index(0), round),
                                   /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard inReuse(e.b);
      e.b.setInsertionPointToStart(&reuse.getThenRegion().front());
      wait(stage, e.rem(e.add(round, e.index(1)), e.index(2)),
           /*empty=*/true);
    }
    load(stage, bytes, e.add(first, e.mul(k, e.index(slice))), maps,
         destinations(stage), rows, ranks);
  }

  /// Invalidates the barriers (by `invalidator`, one thread), once every
  /// thread is past its last wait and arrival: PTX leaves an mbarrier.init
  /// on a valid barrier undefined, and the next block of the grid on this SM
  /// initializes the same addresses (Triton invalidates for the same
  /// reason).
  void invalidate(mlir::Value invalidator) {
    using namespace mlir;
    auto branch = scf::IfOp::create(e.b, e.loc, invalidator, false);
    OpBuilder::InsertionGuard guard(e.b);
    e.b.setInsertionPointToStart(&branch.getThenRegion().front());
    for (int64_t s = 0; s < stages; ++s)
      for (bool empty : {false, true})
        NVVM::MBarrierInvalOp::create(e.b, e.loc, barrier(e.index(s), empty));
  }

  /// The calling threads wait for the completion of `stage`'s full (or
  /// empty) phase of parity `parity` (index).
  void wait(mlir::Value stage, mlir::Value parity, bool empty = false) {
    mlir::NVVM::MBarrierTryWaitParityOp::create(
        e.b, e.loc, barrier(stage, empty), i32(parity), constant32(10000000));
  }

  /// A consumer warp (its thread `signal`) releases `stage` to the
  /// producer: its wgmmas reading the stage have completed.
  void release(mlir::Value stage, mlir::Value signal) {
    using namespace mlir;
    auto branch = scf::IfOp::create(e.b, e.loc, signal, false);
    OpBuilder::InsertionGuard guard(e.b);
    e.b.setInsertionPointToStart(&branch.getThenRegion().front());
    NVVM::MBarrierArriveOp::create(e.b, e.loc, Type(),
                                   barrier(stage, /*empty=*/true), Value());
  }
};

} // namespace llamac

#endif // LLAMAC_PASSES_TMALOADS_H
