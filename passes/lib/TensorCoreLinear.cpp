//===- TensorCoreLinear.cpp - linear layers on mma.sync ---------*- C++ -*-===//
//
// A prefill chunk's linear layer is a GEMM (tokens x features x depth); a
// warp per output, as decode's GEMV, re-reads each weight row once per
// token and leaves the tensor cores idle. Here each warp computes a
// kWarpRows x kWarpCols tile of the output with mma.sync.m16n8k16 (bf16
// inputs, f32 accumulators), the warps of a block sharing rows and columns
// through L1, blocks over the rows first (consecutive blocks read the same
// weight rows, from L2).
//
// Operands are loaded straight into registers, 16 bytes at a time: a
// thread's 8 consecutive elements of a row along the depth give it its
// fragment elements of two k-steps. The mma's k order inside a 32-wide slice
// is permuted (thread t of a quad holds depth 8t .. 8t+7, where the PTX
// layout would give it 2t, 2t+1, 2t+8, 2t+9 of each k-step) identically for
// the activations and the weights, so each product still meets its partner
// and the sum is the same.
//
//===----------------------------------------------------------------------===//
#include "TensorCoreLinear.h"
#include "KernelEmitter.h"
#include "KernelNamer.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace {

using llamac::Emitter;
using llamac::TensorCoreLinear;

/// A warp's output tile: 2 x 8 mma tiles of 16 x 8, 64 f32 accumulators a
/// thread (with the operands, ~170 registers: 3 blocks an SM).
constexpr int64_t kTileRows = 16, kTileCols = 8;
constexpr int64_t kWarpTilesM = 2, kWarpTilesN = 8;
constexpr int64_t kWarpRows = kTileRows * kWarpTilesM;
constexpr int64_t kWarpCols = kTileCols * kWarpTilesN;
/// Warps of a block, rows x columns: each activation row is read by two
/// warps and each weight row by two, the second time from L1.
constexpr int64_t kBlockWarpsM = 2, kBlockWarpsN = 2;
constexpr int64_t kBlockRows = kWarpRows * kBlockWarpsM;
constexpr int64_t kBlockCols = kWarpCols * kBlockWarpsN;
/// Depth per loop iteration: 8 elements for each thread of a quad, two
/// k-steps of 16.
constexpr int64_t kSlice = 32;
constexpr int64_t kPerThread = 8;
/// A grid of fewer blocks than this (a few waves of the ~400 an H100/H200
/// keeps resident) splits the depth among blocks (split-k), each split at
/// least kMinSlicesPerSplit slices; a second kernel adds the splits' partial
/// tiles in split order (the same bits every run, no atomics).
constexpr int64_t kTargetBlocks = 1024;
constexpr int64_t kMinSlicesPerSplit = 8;
constexpr int64_t kSumBlock = 256;

/// All of `op`'s loops at zero but `dims`, set from `flat` (the last of
/// `dims` fastest; static sizes).
void setFlat(Emitter &e, Value flat, ArrayRef<unsigned> dims,
             ArrayRef<int64_t> sizes, SmallVectorImpl<Value> &ivs) {
  for (unsigned d : llvm::reverse(dims)) {
    ivs[d] = e.rem(flat, e.index(sizes[d]));
    flat = e.div(flat, e.index(sizes[d]));
  }
}

SmallVector<Value> indicesOf(Emitter &e, linalg::LinalgOp op,
                             OpOperand *operand, ArrayRef<Value> ivs) {
  AffineMap map = op.getMatchingIndexingMap(operand);
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(
        affine::AffineApplyOp::create(e.b, e.loc, map.getSubMap({i}), ivs));
  return indices;
}

/// The 8 elements of `operand` from depth `k` on, at loop indices `ivs`.
Value loadSlice(Emitter &e, linalg::LinalgOp op, OpOperand *operand,
                SmallVector<Value> ivs, unsigned depthDim, Value k) {
  ivs[depthDim] = k;
  auto type = cast<MemRefType>(operand->get().getType());
  Type element = type.getElementType();
  int64_t bytes = kPerThread * element.getIntOrFloatBitWidth() / 8;
  return vector::LoadOp::create(
      e.b, e.loc, VectorType::get({kPerThread}, element), operand->get(),
      indicesOf(e, op, operand, ivs), /*nontemporal=*/false,
      llvm::Align(std::min<int64_t>(bytes, 16)));
}

/// The 4 registers (bf16 pairs) of 8 bf16.
SmallVector<Value> pairsOf(Emitter &e, Value bf16x8) {
  Value words = vector::BitCastOp::create(
      e.b, e.loc, VectorType::get({kPerThread / 2}, e.b.getI32Type()), bf16x8);
  SmallVector<Value> pairs;
  for (int64_t i = 0; i < kPerThread / 2; ++i)
    pairs.push_back(vector::ExtractOp::create(e.b, e.loc, words, i));
  return pairs;
}

/// acc + a * b for one 16 x 8 x 16 tile; `acc` and the result are the
/// thread's 4 accumulators.
SmallVector<Value> mma(Emitter &e, ArrayRef<Value> a, ArrayRef<Value> b,
                       ArrayRef<Value> acc) {
  Type f32 = e.b.getF32Type();
  auto resultType = LLVM::LLVMStructType::getLiteral(e.b.getContext(),
                                                     SmallVector<Type>(4, f32));
  auto op = NVVM::MmaOp::create(
      e.b, e.loc, resultType, a, b, acc, ArrayRef<int64_t>{16, 8, 16},
      std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(LLVM::ExtractValueOp::create(e.b, e.loc, op, i));
  return out;
}

/// out[row, col] = sum (+ out[row, col] unless `initIsIdentity`).
void storeOutput(Emitter &e, linalg::LinalgOp op,
                 const TensorCoreLinear &linear, bool initIsIdentity, Value row,
                 Value col, Value sum) {
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  SmallVector<Value> ivs(op.getNumLoops(), e.index(0));
  setFlat(e, row, linear.rowDims, sizes, ivs);
  setFlat(e, col, linear.colDims, sizes, ivs);
  OpOperand *init = op.getDpsInitOperand(0);
  SmallVector<Value> indices = indicesOf(e, op, init, ivs);
  if (!initIsIdentity)
    sum = e.add(memref::LoadOp::create(e.b, e.loc, init->get(), indices), sum);
  memref::StoreOp::create(e.b, e.loc, sum, init->get(), indices);
}

/// Split-k's second kernel: a thread per output element adds the splits'
/// partial sums in split order (all loads issued first).
void emitSplitSum(Emitter &e, linalg::LinalgOp op,
                  const TensorCoreLinear &linear, bool initIsIdentity,
                  Value partial, int64_t splits, const std::string &name) {
  OpBuilder::InsertionGuard guard(e.b);
  int64_t outputs = linear.rows * linear.cols;
  gpu::LaunchOp launch = e.launchWarps(
      e.index((outputs + kSumBlock - 1) / kSumBlock), kSumBlock / 32, name);
  Value flat = e.add(e.mul(launch.getBlockIds().x, e.index(kSumBlock)),
                     launch.getThreadIds().x);
  auto inRange = scf::IfOp::create(e.b, e.loc, e.lt(flat, e.index(outputs)),
                                   /*withElseRegion=*/false);
  e.b.setInsertionPointToStart(&inRange.getThenRegion().front());
  Value row = e.div(flat, e.index(linear.cols));
  Value col = e.rem(flat, e.index(linear.cols));
  SmallVector<Value> parts;
  for (int64_t s = 0; s < splits; ++s)
    parts.push_back(memref::LoadOp::create(e.b, e.loc, partial,
                                           ValueRange{e.index(s), row, col}));
  Value sum = parts.front();
  for (Value part : ArrayRef(parts).drop_front())
    sum = e.add(sum, part);
  storeOutput(e, op, linear, initIsIdentity, row, col, sum);
}

} // namespace

std::optional<TensorCoreLinear>
llamac::matchTensorCoreLinear(linalg::LinalgOp op, unsigned depthDim,
                              OpOperand *lhs, OpOperand *rhs) {
  auto elementOf = [](OpOperand *operand) {
    return cast<MemRefType>(operand->get().getType()).getElementType();
  };
  if (lhs == rhs || op.getNumDpsInits() != 1 ||
      !cast<MemRefType>(op.getDpsInitOperand(0)->get().getType())
           .getElementType()
           .isF32())
    return std::nullopt;
  TensorCoreLinear linear{lhs, rhs, depthDim, {}, {}, 1, 1, 0};
  if (elementOf(lhs).isBF16() && elementOf(rhs).isF32())
    std::swap(linear.activations, linear.weights);
  if (!elementOf(linear.activations).isF32() ||
      !elementOf(linear.weights).isBF16())
    return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  if (llvm::any_of(sizes, ShapedType::isDynamic) || sizes[depthDim] % kSlice)
    return std::nullopt;
  linear.depth = sizes[depthDim];
  // Each other loop indexes the output and exactly one of the inputs.
  auto dimsOf = [&](OpOperand *operand, SmallVectorImpl<unsigned> &dims) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
      return false;
    for (AffineExpr result : map.getResults()) {
      unsigned d = cast<AffineDimExpr>(result).getPosition();
      if (d != depthDim)
        dims.push_back(d);
    }
    llvm::sort(dims);
    return true;
  };
  if (!dimsOf(linear.activations, linear.rowDims) ||
      !dimsOf(linear.weights, linear.colDims))
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    if (d == depthDim)
      continue;
    bool inRows = llvm::is_contained(linear.rowDims, d);
    bool inCols = llvm::is_contained(linear.colDims, d);
    if (inRows == inCols || !outMap.isFunctionOfDim(d))
      return std::nullopt;
  }
  for (unsigned d : linear.rowDims)
    linear.rows *= sizes[d];
  for (unsigned d : linear.colDims)
    linear.cols *= sizes[d];
  if (linear.rows < 2 || linear.colDims.empty())
    return std::nullopt;
  return linear;
}

void llamac::emitTensorCoreLinear(linalg::LinalgOp op,
                                  const TensorCoreLinear &linear,
                                  bool initIsIdentity, KernelNamer &namer) {
  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  int64_t rowBlocks = (linear.rows + kBlockRows - 1) / kBlockRows;
  int64_t colBlocks = (linear.cols + kBlockCols - 1) / kBlockCols;
  int64_t slices = linear.depth / kSlice, splits = 1;
  while (rowBlocks * colBlocks * splits * 2 <= kTargetBlocks &&
         slices % (splits * 2) == 0 &&
         slices / (splits * 2) >= kMinSlicesPerSplit)
    splits *= 2;
  std::string name = namer.name(op, "mma");
  // Split-k: the splits' tiles go to partial[split][row][col] first.
  Value partial;
  if (splits > 1)
    partial = memref::AllocOp::create(
        b, e.loc,
        MemRefType::get({splits, linear.rows, linear.cols}, b.getF32Type()));
  gpu::LaunchOp launch = e.launchWarps(e.index(rowBlocks * colBlocks * splits),
                                       kBlockWarpsM * kBlockWarpsN, name);
  Value tid = launch.getThreadIds().x;
  Value lane = e.rem(tid, e.index(32));
  Value warp = e.div(tid, e.index(32));
  // The PTX fragment layout's "group" (lane / 4) and "thread in group".
  Value group = e.div(lane, e.index(4));
  Value quadLane = e.rem(lane, e.index(4));
  Value blockId = launch.getBlockIds().x;
  Value rowBase =
      e.add(e.mul(e.rem(blockId, e.index(rowBlocks)), e.index(kBlockRows)),
            e.mul(e.rem(warp, e.index(kBlockWarpsM)), e.index(kWarpRows)));
  // Blocks in (split, column block, row block) order: consecutive blocks
  // read the same weight rows.
  Value colBlock =
      e.rem(e.div(blockId, e.index(rowBlocks)), e.index(colBlocks));
  Value split =
      splits > 1 ? e.div(blockId, e.index(rowBlocks * colBlocks)) : e.index(0);
  Value colBase =
      e.add(e.mul(colBlock, e.index(kBlockCols)),
            e.mul(e.div(warp, e.index(kBlockWarpsM)), e.index(kWarpCols)));

  // Rows and columns past the end read the last one (no branch around the
  // loads); their results are not stored.
  Value zero = e.index(0);
  SmallVector<Value> noIvs(op.getNumLoops(), zero);
  Value lastRow = e.index(linear.rows - 1), lastCol = e.index(linear.cols - 1);
  // rowIvs[2 * i + h]: tile i's row group (+ 8 if h).
  SmallVector<SmallVector<Value>> rowIvs, colIvs;
  for (int64_t i = 0; i < kWarpTilesM; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value row = e.add(rowBase, e.add(group, e.index(kTileRows * i + 8 * h)));
      rowIvs.push_back(noIvs);
      setFlat(e, e.min(row, lastRow), linear.rowDims, sizes, rowIvs.back());
    }
  for (int64_t j = 0; j < kWarpTilesN; ++j) {
    Value col = e.add(colBase, e.add(group, e.index(kTileCols * j)));
    colIvs.push_back(noIvs);
    setFlat(e, e.min(col, lastCol), linear.colDims, sizes, colIvs.back());
  }

  Value accZero = e.f32(0.0);
  SmallVector<Value> initAcc(kWarpTilesM * kWarpTilesN * 4, accZero);
  int64_t splitDepth = linear.depth / splits;
  Value depthBegin = e.mul(split, e.index(splitDepth));
  auto loop = scf::ForOp::create(b, e.loc, depthBegin,
                                 e.add(depthBegin, e.index(splitDepth)),
                                 e.index(kSlice), initAcc);
  {
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    Value k =
        e.add(loop.getInductionVar(), e.mul(quadLane, e.index(kPerThread)));
    // Every load first, so that they are in flight together.
    SmallVector<Value> rowSlices, colSlices;
    for (SmallVector<Value> &ivs : rowIvs)
      rowSlices.push_back(
          loadSlice(e, op, linear.activations, ivs, linear.depthDim, k));
    for (SmallVector<Value> &ivs : colIvs)
      colSlices.push_back(
          loadSlice(e, op, linear.weights, ivs, linear.depthDim, k));
    // hi = bf16(x), lo = bf16(x - hi): x to ~16 bits in two bf16 terms.
    auto bf16x8 = VectorType::get({kPerThread}, b.getBF16Type());
    auto f32x8 = VectorType::get({kPerThread}, b.getF32Type());
    SmallVector<SmallVector<Value>> hi, lo;
    for (Value x : rowSlices) {
      Value high = arith::TruncFOp::create(b, e.loc, bf16x8, x);
      Value rest = e.sub(x, arith::ExtFOp::create(b, e.loc, f32x8, high));
      hi.push_back(pairsOf(e, high));
      lo.push_back(pairsOf(e, arith::TruncFOp::create(b, e.loc, bf16x8, rest)));
    }
    SmallVector<SmallVector<Value>> w;
    for (Value slice : colSlices)
      w.push_back(pairsOf(e, slice));
    SmallVector<Value> acc(loop.getRegionIterArgs());
    for (int64_t step = 0; step < 2; ++step) {
      int64_t p = 2 * step;
      for (int64_t i = 0; i < kWarpTilesM; ++i) {
        // Registers a0..a3: rows g and g + 8 of pair p, then of pair p + 1.
        int64_t top = 2 * i, bottom = 2 * i + 1;
        SmallVector<Value> aHi{hi[top][p], hi[bottom][p], hi[top][p + 1],
                               hi[bottom][p + 1]};
        SmallVector<Value> aLo{lo[top][p], lo[bottom][p], lo[top][p + 1],
                               lo[bottom][p + 1]};
        for (int64_t j = 0; j < kWarpTilesN; ++j) {
          SmallVector<Value> bRegs{w[j][p], w[j][p + 1]};
          MutableArrayRef<Value> tile(&acc[(i * kWarpTilesN + j) * 4], 4);
          SmallVector<Value> next = mma(e, aLo, bRegs, tile);
          next = mma(e, aHi, bRegs, next);
          llvm::copy(next, tile.begin());
        }
      }
    }
    scf::YieldOp::create(b, e.loc, acc);
  }

  // Accumulator c of tile (i, j): row g (+ 8 for c >= 2), column 2t + c % 2.
  Value rowsValue = e.index(linear.rows), colsValue = e.index(linear.cols);
  for (int64_t i = 0; i < kWarpTilesM; ++i)
    for (int64_t j = 0; j < kWarpTilesN; ++j)
      for (int64_t c = 0; c < 4; ++c) {
        Value row =
            e.add(rowBase, e.add(group, e.index(kTileRows * i + 8 * (c / 2))));
        Value col = e.add(colBase, e.add(e.mul(quadLane, e.index(2)),
                                         e.index(kTileCols * j + c % 2)));
        Value inside = arith::AndIOp::create(b, e.loc, e.lt(row, rowsValue),
                                             e.lt(col, colsValue));
        auto guard = scf::IfOp::create(b, e.loc, inside, false);
        OpBuilder::InsertionGuard inGuard(b);
        b.setInsertionPointToStart(&guard.getThenRegion().front());
        Value sum = loop.getResult((i * kWarpTilesN + j) * 4 + c);
        if (partial)
          memref::StoreOp::create(b, e.loc, sum, partial,
                                  ValueRange{split, row, col});
        else
          storeOutput(e, op, linear, initIsIdentity, row, col, sum);
      }
  if (partial) {
    b.setInsertionPointAfter(launch);
    emitSplitSum(e, op, linear, initIsIdentity, partial, splits,
                 namer.name(op, "mma_sum"));
    memref::DeallocOp::create(b, e.loc, partial);
  }
  op->erase();
}
