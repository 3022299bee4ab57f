//===- TensorCoreLinear.cpp - linear layers on mma.sync ---------*- C++ -*-===//
//
// A prefill chunk's linear layer is a GEMM (tokens x features x depth); a
// warp per output, as decode's GEMV, re-reads each weight row once per
// token and leaves the tensor cores idle. Here each warp computes a
// kWarpRows x kWarpCols tile of the output with mma.sync.m16n8k16 (bf16
// inputs, f32 accumulators); the block's rows of activations and columns
// of weights come through shared memory a 32-wide slice of the depth at a
// time (cp.async, a ring of two to four stages), so each element crosses
// from L2 once per block; blocks go over the rows first (consecutive
// blocks read the same weight rows, from L2). Activations are bf16
// (llama-narrow-gemm-activations) or f32 split into two bf16 terms.
//
// Fragments are read from the tiles 16 bytes at a time: a thread's 8
// consecutive elements of a row along the depth give it its fragment
// elements of two k-steps. The mma's k order inside a 32-wide slice
// is permuted (thread t of a quad holds depth 8t .. 8t+7, where the PTX
// layout would give it 2t, 2t+1, 2t+8, 2t+9 of each k-step) identically for
// the activations and the weights, so each product still meets its partner
// and the sum is the same.
//
// With llama-map-to-gpu's wgmma option (sm_90a, the default there), a
// block is two warpgroups and a 128 x 256 tile: the tiles' slices are 64
// deep where the depth allows (else 32), stored as the tensor cores read
// them (the 128-byte or 64-byte swizzle, Wgmma.h) in dynamic shared memory,
// and each slice is one wgmma.m64n256k16 a k-step a warpgroup reading both
// operands from shared memory, one slice's group kept in flight. The
// finished tile goes out through the same shared memory as 16-byte runs of
// its rows (storeTileRows). With the tma option (experimental) a producer
// warp loads the tiles by TMA and the warpgroups wait on mbarriers instead
// of a block barrier a slice (TmaLoads.h).
//
//===----------------------------------------------------------------------===//
#include "TensorCoreLinear.h"
#include "F32Runs.h"
#include "KernelEmitter.h"
#include "KernelNamer.h"
#include "LinalgBodies.h"
#include "LinalgIndexing.h"
#include "MmaSync.h"
#include "TmaLoads.h"
#include "Wgmma.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
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
/// Warps of a block, rows x columns: each activation row of the block's
/// tile is read by two warps and each weight row by two (from shared
/// memory).
constexpr int64_t kBlockWarpsM = 2, kBlockWarpsN = 2;
constexpr int64_t kBlockRows = kWarpRows * kBlockWarpsM;
constexpr int64_t kBlockCols = kWarpCols * kBlockWarpsN;
/// Depth per loop iteration: 8 elements for each thread of a quad, two
/// k-steps of 16.
constexpr int64_t kSlice = 32;
constexpr int64_t kPerThread = 8;
/// The block's operand tiles of each slice go through shared memory in a
/// ring of stages: cp.async brings the next stages' slices while the warps
/// multiply this one's, and each element comes from L2 once per block
/// instead of once per warp that reads it. As many stages as fit the 48 KB
/// of static shared memory a block, at most kMaxStages: 4 with bf16
/// activations (12 KB a stage), 2 with f32 (17 KB). Loops shorter than
/// kLongLoopSlices take one stage fewer than fit: on an H200 (KERNEL_NOTES,
/// session 11) the 1B's prefill (8–64 slices a block) ran 7% faster with 3
/// stages than 4 (its kernels alone 2% slower under ncu: what 4 lose is
/// the overlap with the next kernel), the 8B's (gate+up and down: 112–128
/// slices) 9% slower. wgmma keeps every stage that fits: its ring runs one
/// slice less ahead (a slice's group stays in flight through the next
/// iteration). f32 activation rows are padded by 4 floats (144-byte
/// rows), so that the 16-byte fragment reads of 8 lanes hit distinct banks;
/// 64-byte rows of bf16 need none.
constexpr int64_t kMaxStages = 4;
constexpr int64_t kLongLoopSlices = 96;
constexpr int64_t kSharedBytes = 48 * 1024;
constexpr int64_t kPadF32 = 4;
/// 16-byte copies: 4 floats of an activation row, 8 bf16 of a weight row.
constexpr int64_t kCopyF32 = 4, kCopyBF16 = 8;
/// mma.sync: a grid of fewer blocks than this (about one wave of the ~400
/// an H100/H200 keeps resident) splits the depth among blocks (split-k), each
/// split at least kMinSlicesPerSplit slices; a second kernel adds the
/// splits' partial tiles in split order (the same bits every run, no
/// atomics). The partial tiles cost a write and a read of f32 each: at
/// 1,024 (2.6 waves) the 1B's prefill was 16% slower (KERNEL_NOTES,
/// session 9).
constexpr int64_t kTargetBlocks = 400;
/// wgmma's slices are kWgmmaSlice deep where the depth (split) allows:
/// 128-byte rows, stored and read with the 128-byte swizzle (Wgmma.h), four
/// k-steps a group and half the barriers of 32-deep slices (on an H200,
/// KERNEL_NOTES session 20: 8B prefill +4%, 1B +0–2%).
constexpr int64_t kWgmmaSlice = 64;
/// wgmma's block: kWgmmaWarpgroups warpgroups, each a 64-row slab of the
/// block's rows against all kWgmmaCols columns (m64n256k16, 128
/// accumulators a thread): each slice's weight tile crosses from L2 once
/// for 128 rows, its activation tile once for 256 columns, 85 FLOPs a byte
/// against 43 for one warpgroup's 64 x 128 (which left the GEMMs near L2's
/// bandwidth at ~200 TFLOPS). Its stages live in dynamic shared memory
/// (more than the 48 KB of static; ~180 registers a thread leave one block
/// an SM anyway), as many as kWgmmaSharedBytes holds, at most
/// kWgmmaMaxStages; the tiles' base is aligned at run time to
/// kSwizzleAlignment (the swizzle pattern's period), which the allocation
/// leaves room for. On an H200 (KERNEL_NOTES, session 19), against 64 x
/// 128 in 48 KB: 128 x 128 in 96 KB +16% / +11% (1B prefill 512 / 2,048),
/// +26% / +20% (8B); 128 x 256 in 192 KB -1% / 0% of that (1B), +3% / +2%
/// (8B); 128 x 256 in 96 KB and 64 x 256 slower than 128 x 128.
constexpr int64_t kWgmmaRows = 64;
constexpr int64_t kWgmmaWarpgroups = 2, kWgmmaCols = 256;
constexpr int64_t kWgmmaSharedBytes = 192 * 1024, kWgmmaMaxStages = 8;
constexpr int64_t kSwizzleAlignment = 1024;
constexpr int64_t kMinSlicesPerSplit = 8;
/// wgmma's split-k goes by waves: its blocks (one an SM) run in waves of
/// kHopperSMs (H100 SXM, H200), so a grid of 64 blocks leaves half the GPU
/// idle and 2 splits of it take half the time, while 3 waves' worth of
/// blocks gain nothing from splitting. Modeled for each split count s:
/// ceil(blocks s / kHopperSMs) waves, each the split's depth at
/// kNanosPerDepth, plus for s > 1 the partial tiles' bytes (each output's s
/// partial sums written and read back, the sum written: (2 s + 1) x 4) at
/// kSumBytesPerNano and the sum kernel's launch. kNanosPerDepth is
/// what the 8B's chunk of 512 took on an H200 in session 19 (729 µs of GEMMs
/// a layer: ~600 ns a 32-deep slice of a block). On an H200 (KERNEL_NOTES,
/// session 20) against a target of 100 blocks: 8B prefill +13% / +18% at
/// 512 / 2,048 tokens (its o and down GEMMs split in 2, not at all before),
/// 1B +2% (4 splits, was 2). An H100 PCIe (114 SMs) gets a choice made for
/// 132.
constexpr int64_t kHopperSMs = 132;
constexpr double kNanosPerDepth = 600.0 / kSlice, kSumBytesPerNano = 3500,
                 kSumLaunchNanos = 2000;
constexpr int64_t kMaxSplits = 16;
constexpr int64_t kSumBlock = 256;
/// The wgmma output tile's row padding in shared memory (storeTileRows).
constexpr int64_t kOutputPad = 8;

/// ivs[d] for the loops `dims` from `flat` (the last of `dims` fastest),
/// given their static sizes.
void setFlat(Emitter &e, Value flat, ArrayRef<unsigned> dims,
             ArrayRef<int64_t> sizes, SmallVectorImpl<Value> &ivs) {
  SmallVector<Value> sizeValues(sizes.size());
  for (unsigned d : dims)
    sizeValues[d] = e.index(sizes[d]);
  llamac::delinearize(e.b, e.loc, flat, dims, sizeValues, ivs);
}

/// mma.sync's split-k: doubled while the grid stays within kTargetBlocks.
int64_t mmaSyncSplits(int64_t blocks, int64_t slices) {
  int64_t splits = 1;
  while (blocks * splits * 2 <= kTargetBlocks && slices % (splits * 2) == 0 &&
         slices / (splits * 2) >= kMinSlicesPerSplit)
    splits *= 2;
  return splits;
}

/// wgmma's split-k: the count of the least modeled time (see kHopperSMs),
/// each split a whole number of `slice`-deep slices and at least
/// kMinSlicesPerSplit 32-deep ones.
int64_t wgmmaSplits(const TensorCoreLinear &linear, int64_t blocks,
                    int64_t slice) {
  auto nanos = [&](int64_t s) {
    int64_t waves = (blocks * s + kHopperSMs - 1) / kHopperSMs;
    double time = double(waves * linear.depth / s) * kNanosPerDepth;
    if (s > 1)
      time += double((2 * s + 1) * 4 * linear.rows * linear.cols) /
                  kSumBytesPerNano +
              kSumLaunchNanos;
    return time;
  };
  int64_t best = 1;
  for (int64_t s = 2; s <= kMaxSplits && linear.depth % (s * slice) == 0 &&
                      linear.depth / s >= kMinSlicesPerSplit * kSlice;
       s *= 2)
    if (nanos(s) < nanos(best))
      best = s;
  return best;
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

/// One 16-byte cp.async of a block's tile copy: from `operand` at loop
/// indices `ivs` (the slice's depth + `depthOffset` along the depth) into
/// `tile`[stage, dest...].
struct TileCopy {
  OpOperand *operand;
  SmallVector<Value> ivs; // the row's (or column's) loop indices
  SmallVector<Value> dest;
  Value depthOffset;
  Value tile;
  int64_t elements;
};

/// The slice at depth `depth` into stage `stage` of each copy's tile, as
/// one cp.async group.
void issueSlice(Emitter &e, linalg::LinalgOp op, unsigned depthDim,
                ArrayRef<TileCopy> copies, Value depth, Value stage) {
  SmallVector<Value> tokens;
  for (const TileCopy &copy : copies) {
    SmallVector<Value> ivs(copy.ivs);
    ivs[depthDim] = e.add(depth, copy.depthOffset);
    SmallVector<Value> dest{stage};
    dest.append(copy.dest);
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        e.b, e.loc, copy.tile, dest, copy.operand->get(),
        llamac::operandIndices(e.b, e.loc, op, copy.operand, ivs),
        e.b.getIndexAttr(copy.elements), /*srcElements=*/Value(),
        /*bypassL1=*/e.b.getUnitAttr()));
  }
  nvgpu::DeviceAsyncCreateGroupOp::create(e.b, e.loc, tokens);
}

/// out[row, col] = value (+ out[row, col] unless `initIsIdentity`): one f32,
/// or a vector of the columns from `col` on (where outputTakesRuns).
void storeOutput(Emitter &e, linalg::LinalgOp op,
                 const TensorCoreLinear &linear, bool initIsIdentity, Value row,
                 Value col, Value value) {
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  SmallVector<Value> ivs(op.getNumLoops(), e.index(0));
  setFlat(e, row, linear.rowDims, sizes, ivs);
  setFlat(e, col, linear.colDims, sizes, ivs);
  OpOperand *init = op.getDpsInitOperand(0);
  Value output = init->get();
  SmallVector<Value> indices =
      llamac::operandIndices(e.b, e.loc, op, init, ivs);
  auto run = dyn_cast<VectorType>(value.getType());
  if (!initIsIdentity)
    value = e.add(
        run ? llamac::loadRun(e, output, indices, run.getNumElements())
            : memref::LoadOp::create(e.b, e.loc, output, indices).getResult(),
        value);
  if (run)
    llamac::storeRun(e, value, output, indices);
  else
    memref::StoreOp::create(e.b, e.loc, value, output, indices);
}

/// Whether 4 consecutive columns of the output (from a multiple of 4) are 4
/// consecutive f32 in memory, 16-byte aligned: the fastest column loop
/// indexes the output's innermost dimension and has a multiple of 4
/// iterations.
bool outputTakesRuns(linalg::LinalgOp op, const TensorCoreLinear &linear) {
  unsigned fastest = linear.colDims.back();
  OpOperand *init = op.getDpsInitOperand(0);
  auto last = dyn_cast<AffineDimExpr>(
      op.getMatchingIndexingMap(init).getResults().back());
  return last && last.getPosition() == fastest &&
         op.getStaticLoopRanges()[fastest] % 4 == 0 &&
         llamac::runAlignment(cast<MemRefType>(init->get().getType()), 4) == 16;
}

/// A barrier of the whole block (`threads` 0), or of its first `threads`
/// threads (named barrier 1).
void blockBarrier(Emitter &e, int64_t threads) {
  if (!threads) {
    gpu::BarrierOp::create(e.b, e.loc);
    return;
  }
  auto i32 = [&](int64_t v) {
    return arith::ConstantIntOp::create(e.b, e.loc, v, 32).getResult();
  };
  NVVM::BarrierOp::create(e.b, e.loc, Type(), i32(1), i32(threads),
                          NVVM::BarrierReductionAttr(), Value());
}

/// The wgmma block's output tile on its way out: the dynamic shared memory
/// it passes through (from `shift`), its size and place.
struct OutputTile {
  Value raw, shift;
  int64_t rows, cols, threads;
  Value firstRow, firstCol, outputRows, outputCols;
  /// The barriers' participants: 0 for the whole block, else the first
  /// `barrierThreads` threads (the consumers, when a producer warp runs
  /// apart).
  int64_t barrierThreads;
};

/// Writes the block's accumulators (the wgmma struct `acc`: for n-tile j,
/// rows `warpRow` + g and + 8, columns 8 j + 2 t and + 1, in the mma.sync
/// tiles' layout) into shared memory, then hands each thread's 16-byte runs
/// of the tile's rows, inside the output, to `store(row, col, {run})`
/// (`paired`: runs of the tile's first half of columns, each with the run
/// half a tile to its right, `store(row, col, {run, partner})`). A
/// warp's stores are then 512 contiguous bytes of a row, where the
/// accumulators' layout gives 8 rows x 32 bytes an instruction (a quarter
/// of the instructions, whole sectors; the scalar stores' queue was a third
/// of the wgmma GEMMs' stalls, KERNEL_NOTES session 21). The rows are
/// padded by kOutputPad floats, so that a half-warp's 8-byte writes (4 rows
/// x 4 threads) cover the 32 banks.
void storeTileRows(
    Emitter &e, const OutputTile &tile, Value acc, int64_t tilesN,
    Value warpRow, Value group, Value quadLane, Value tid, bool paired,
    llvm::function_ref<void(Value, Value, ArrayRef<Value>)> store) {
  OpBuilder &b = e.b;
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  int64_t rowLength = tile.cols + kOutputPad;
  Value shared = memref::ViewOp::create(
      b, e.loc,
      MemRefType::get({tile.rows, rowLength}, b.getF32Type(),
                      MemRefLayoutAttrInterface(), workgroup),
      tile.raw, tile.shift, ValueRange{});
  // Every warpgroup's wgmmas are done reading the stages it overwrites.
  blockBarrier(e, tile.barrierThreads);
  auto pairType = VectorType::get({2}, b.getF32Type());
  for (int64_t j = 0; j < tilesN; ++j)
    for (int64_t half = 0; half < 2; ++half) {
      int64_t index = j * 4 + 2 * half;
      Value pair = vector::FromElementsOp::create(
          b, e.loc, pairType,
          ValueRange{LLVM::ExtractValueOp::create(b, e.loc, acc, index),
                     LLVM::ExtractValueOp::create(b, e.loc, acc, index + 1)});
      Value row = e.add(warpRow, e.add(group, e.index(8 * half)));
      Value col = e.add(e.mul(quadLane, e.index(2)), e.index(kTileCols * j));
      vector::StoreOp::create(b, e.loc, pair, shared, ValueRange{row, col},
                              /*nontemporal=*/false, llvm::Align(8));
    }
  blockBarrier(e, tile.barrierThreads);
  int64_t runCols = paired ? tile.cols / 2 : tile.cols;
  int64_t runsPerRow = runCols / 4;
  auto runType = VectorType::get({4}, b.getF32Type());
  for (int64_t k = 0; k < tile.rows * runsPerRow / tile.threads; ++k) {
    Value flat = e.add(tid, e.index(k * tile.threads));
    Value r = e.div(flat, e.index(runsPerRow));
    Value c = e.mul(e.rem(flat, e.index(runsPerRow)), e.index(4));
    Value row = e.add(tile.firstRow, r), col = e.add(tile.firstCol, c);
    Value inside = arith::AndIOp::create(b, e.loc, e.lt(row, tile.outputRows),
                                         e.lt(col, tile.outputCols));
    auto guard = scf::IfOp::create(b, e.loc, inside, false);
    OpBuilder::InsertionGuard inGuard(b);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
    auto load = [&](Value column) -> Value {
      return vector::LoadOp::create(b, e.loc, runType, shared,
                                    ValueRange{r, column},
                                    /*nontemporal=*/false, llvm::Align(16));
    };
    SmallVector<Value> runs{load(c)};
    if (paired)
      runs.push_back(load(e.add(c, e.index(runCols))));
    store(row, col, runs);
  }
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

/// One slice's products on mma.sync: the warp's fragments from the tiles
/// (a thread's 8 consecutive elements of a row, in the permuted k order),
/// two k-steps of its 2 x 8 tiles into `acc`.
void emitMmaSyncSlice(Emitter &e, Value aTiles, Value bTiles, Type aType,
                      Value stage, Value warpRow, Value warpCol, Value group,
                      Value quadLane, SmallVectorImpl<Value> &acc) {
  OpBuilder &b = e.b;
  bool narrow = aType.isBF16();
  Value k = e.mul(quadLane, e.index(kPerThread));
  SmallVector<Value> rowSlices, colSlices;
  for (int64_t i = 0; i < kWarpTilesM; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value row = e.add(warpRow, e.add(group, e.index(kTileRows * i + 8 * h)));
      rowSlices.push_back(vector::LoadOp::create(
          b, e.loc, VectorType::get({kPerThread}, aType), aTiles,
          ValueRange{stage, row, k}, /*nontemporal=*/false, llvm::Align(16)));
    }
  for (int64_t j = 0; j < kWarpTilesN; ++j) {
    Value col = e.add(warpCol, e.add(group, e.index(kTileCols * j)));
    colSlices.push_back(vector::LoadOp::create(
        b, e.loc, VectorType::get({kPerThread}, b.getBF16Type()), bTiles,
        ValueRange{stage, col, k}, /*nontemporal=*/false, llvm::Align(16)));
  }
  // f32 activations: hi = bf16(x), lo = bf16(x - hi), x to ~16 bits in
  // two bf16 terms.
  auto bf16x8 = VectorType::get({kPerThread}, b.getBF16Type());
  auto f32x8 = VectorType::get({kPerThread}, b.getF32Type());
  SmallVector<SmallVector<Value>> hi, lo;
  for (Value x : rowSlices) {
    if (narrow) {
      hi.push_back(pairsOf(e, x));
      continue;
    }
    Value high = arith::TruncFOp::create(b, e.loc, bf16x8, x);
    Value rest = e.sub(x, arith::ExtFOp::create(b, e.loc, f32x8, high));
    hi.push_back(pairsOf(e, high));
    lo.push_back(pairsOf(e, arith::TruncFOp::create(b, e.loc, bf16x8, rest)));
  }
  SmallVector<SmallVector<Value>> w;
  for (Value slice : colSlices)
    w.push_back(pairsOf(e, slice));
  for (int64_t step = 0; step < 2; ++step) {
    int64_t p = 2 * step;
    for (int64_t i = 0; i < kWarpTilesM; ++i) {
      // Registers a0..a3: rows g and g + 8 of pair p, then of pair p + 1.
      int64_t top = 2 * i, bottom = 2 * i + 1;
      SmallVector<Value> aHi{hi[top][p], hi[bottom][p], hi[top][p + 1],
                             hi[bottom][p + 1]};
      for (int64_t j = 0; j < kWarpTilesN; ++j) {
        SmallVector<Value> bRegs{w[j][p], w[j][p + 1]};
        MutableArrayRef<Value> tile(&acc[(i * kWarpTilesN + j) * 4], 4);
        SmallVector<Value> next(tile);
        if (!narrow) {
          SmallVector<Value> aLo{lo[top][p], lo[bottom][p], lo[top][p + 1],
                                 lo[bottom][p + 1]};
          next = llamac::mmaSync(e, NVVM::MMATypes::bf16, aLo, bRegs, next);
        }
        next = llamac::mmaSync(e, NVVM::MMATypes::bf16, aHi, bRegs, next);
        llvm::copy(next, tile.begin());
      }
    }
  }
}

} // namespace

std::optional<TensorCoreLinear>
llamac::matchTensorCoreLinear(linalg::LinalgOp op, unsigned depthDim,
                              OpOperand *lhs, OpOperand *rhs) {
  auto elementOf = [](OpOperand *operand) {
    return getElementTypeOrSelf(operand->get().getType());
  };
  if (lhs == rhs || op.getNumDpsInits() != 1 ||
      !elementOf(op.getDpsInitOperand(0)).isF32())
    return std::nullopt;
  TensorCoreLinear linear{lhs, rhs, depthDim, {}, {}, 1, 1, 0};
  if (elementOf(lhs).isBF16() && elementOf(rhs).isF32())
    std::swap(linear.activations, linear.weights);
  Type activations = elementOf(linear.activations);
  if (!(activations.isF32() || activations.isBF16()) ||
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

bool llamac::canPairEpilogue(const TensorCoreLinear &linear, int64_t half) {
  return linear.wgmma && !linear.tma && linear.colDims.size() == 1 &&
         linear.cols == 2 * half && half % (kWgmmaCols / 2) == 0;
}

void llamac::emitTensorCoreLinear(linalg::LinalgOp op,
                                  const TensorCoreLinear &linear,
                                  bool initIsIdentity, KernelNamer &namer,
                                  const PairedEpilogue *paired) {
  assert((!paired || canPairEpilogue(linear, paired->half)) &&
         "a paired epilogue needs whole half tiles");
  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  // The block's tile and warps: mma.sync, 2 x 2 warps of 32 x 64; wgmma,
  // kWgmmaWarpgroups warpgroups of 64 x kWgmmaCols.
  bool wgmma = linear.wgmma;
  int64_t blockRows = wgmma ? kWgmmaRows * kWgmmaWarpgroups : kBlockRows;
  int64_t blockCols = wgmma ? kWgmmaCols : kBlockCols;
  int64_t blockWarps =
      wgmma ? 4 * kWgmmaWarpgroups : kBlockWarpsM * kBlockWarpsN;
  int64_t blockThreads = 32 * blockWarps;
  int64_t rowBlocks = (linear.rows + blockRows - 1) / blockRows;
  int64_t colBlocks = (linear.cols + blockCols - 1) / blockCols;
  int64_t slice =
      wgmma && linear.depth % kWgmmaSlice == 0 ? kWgmmaSlice : kSlice;
  int64_t slices = linear.depth / slice;
  // The tma option: both tiles by TMA where both operands allow, from
  // tensor maps the host code asks for before the launch, issued by a
  // producer warp after the consumer warps (TmaLoads.h).
  bool tma =
      linear.tma && slice == kWgmmaSlice &&
      llamac::isTmaOperand(op, linear.activations, linear.rowDims,
                           linear.depthDim) &&
      llamac::isTmaOperand(op, linear.weights, linear.colDims, linear.depthDim);
  // (A paired epilogue needs the whole sums: no split-k.)
  int64_t splits = paired  ? 1
                   : wgmma ? wgmmaSplits(linear, rowBlocks * colBlocks, slice)
                           : mmaSyncSplits(rowBlocks * colBlocks, slices);
  std::string name = namer.name(op, paired ? "mma_map" : "mma");
  // Split-k: the splits' tiles go to partial[split][row][col] first.
  Value partial;
  if (splits > 1)
    partial = memref::AllocOp::create(
        b, e.loc,
        MemRefType::get({splits, linear.rows, linear.cols}, b.getF32Type()));

  // The block's tiles: its rows of the activations and columns of the
  // weights, a slice of the depth each, in shared memory (for wgmma with
  // the 16-byte chunks of each row swizzled, see below).
  Type aType = getElementTypeOrSelf(linear.activations->get().getType());
  bool narrow = aType.isBF16();
  int64_t aRowLength = slice + (narrow ? 0 : kPadF32);
  int64_t aStageBytes = blockRows * aRowLength * (narrow ? 2 : 4);
  int64_t bStageBytes = blockCols * slice * 2;
  int64_t stageBytes = aStageBytes + bStageBytes;
  int64_t stages =
      wgmma ? std::min(kWgmmaMaxStages, kWgmmaSharedBytes / stageBytes)
            : std::min(kMaxStages, kSharedBytes / stageBytes);
  if (slices / splits < kLongLoopSlices && stages > 2 && !wgmma)
    --stages;
  int64_t dynamicBytes = wgmma ? stages * stageBytes + kSwizzleAlignment : 0;
  SmallVector<Value> maps;
  SmallVector<int64_t> mapRanks;
  if (tma)
    for (auto [operand, boxRows] : {std::pair(linear.activations, blockRows),
                                    std::pair(linear.weights, blockCols)}) {
      maps.push_back(llamac::hostTensorMap(e, operand->get(), boxRows, slice));
      mapRanks.push_back(cast<MemRefType>(operand->get().getType()).getRank());
    }
  gpu::LaunchOp launch =
      e.launchWarps(e.index(rowBlocks * colBlocks * splits),
                    blockWarps + (tma ? 1 : 0), name, dynamicBytes);
  Value tid = launch.getThreadIds().x;
  Value lane = e.rem(tid, e.index(32));
  Value warp = e.div(tid, e.index(32));
  // The PTX fragment layout's "group" (lane / 4) and "thread in group".
  Value group = e.div(lane, e.index(4));
  Value quadLane = e.rem(lane, e.index(4));
  Value blockId = launch.getBlockIds().x;
  // Blocks in (split, column block, row block) order: consecutive blocks
  // read the same weight rows.
  Value blockRow =
      e.mul(e.rem(blockId, e.index(rowBlocks)), e.index(blockRows));
  Value blockCol =
      e.mul(e.rem(e.div(blockId, e.index(rowBlocks)), e.index(colBlocks)),
            e.index(blockCols));
  Value split =
      splits > 1 ? e.div(blockId, e.index(rowBlocks * colBlocks)) : e.index(0);
  // The warp's tile within the block's: mma.sync, its 32 x 64; wgmma, its
  // warpgroup's 64 rows, whose accumulators give warp w of the warpgroup
  // rows 16w .. 16w + 15 of them, in the mma.sync tiles' layout.
  Value warpgroup = e.div(warp, e.index(4));
  int64_t tilesM = wgmma ? 1 : kWarpTilesM;
  int64_t tilesN = wgmma ? blockCols / kTileCols : kWarpTilesN;
  Value warpRow =
      wgmma ? e.add(e.mul(warpgroup, e.index(kWgmmaRows)),
                    e.mul(e.rem(warp, e.index(4)), e.index(kTileRows)))
            : e.mul(e.rem(warp, e.index(kBlockWarpsM)), e.index(kWarpRows));
  Value warpCol =
      wgmma ? e.index(0)
            : e.mul(e.div(warp, e.index(kBlockWarpsM)), e.index(kWarpCols));
  Value rowBase = e.add(blockRow, warpRow);
  Value colBase = e.add(blockCol, warpCol);

  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto tileType = [&](int64_t tileRows, int64_t rowLength, Type element) {
    return MemRefType::get({stages, tileRows, rowLength}, element,
                           MemRefLayoutAttrInterface(), workgroup);
  };
  Type i64 = b.getI64Type();
  auto sharedAddress = [&](Value tile) {
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, e.loc, tile);
    return arith::IndexCastUIOp::create(b, e.loc, i64, address);
  };
  Value aTiles, bTiles;
  // wgmma: the dynamic shared memory and the offset of its first aligned
  // byte.
  Value raw, shift;
  if (wgmma) {
    // Views of the dynamic shared memory from its first aligned byte.
    raw = gpu::DynamicSharedMemoryOp::create(
        b, e.loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                        MemRefLayoutAttrInterface(), workgroup));
    Value rawAddress =
        memref::ExtractAlignedPointerAsIndexOp::create(b, e.loc, raw);
    Value align = e.index(kSwizzleAlignment);
    shift = e.rem(e.sub(align, e.rem(rawAddress, align)), align);
    aTiles =
        memref::ViewOp::create(b, e.loc, tileType(blockRows, aRowLength, aType),
                               raw, shift, ValueRange{});
    bTiles = memref::ViewOp::create(
        b, e.loc, tileType(blockCols, slice, b.getBF16Type()), raw,
        e.add(shift, e.index(stages * aStageBytes)), ValueRange{});
  } else {
    aTiles = launch.addWorkgroupAttribution(
        tileType(blockRows, aRowLength, aType), e.loc);
    bTiles = launch.addWorkgroupAttribution(
        tileType(blockCols, slice, b.getBF16Type()), e.loc);
  }
  // Each thread's share of a slice's copies: consecutive threads take
  // consecutive 16 bytes of a row (for wgmma stored at the swizzle's chunk
  // position: c ^ (r % 8) for 128-byte rows, c ^ (r / 2 % 4) for 64-byte
  // ones, see Wgmma.h). Rows and columns past the end
  // copy the last one (no branch around the copies); their results are not
  // stored.
  Value zero = e.index(0);
  SmallVector<Value> noIvs(op.getNumLoops(), zero);
  Value lastRow = e.index(linear.rows - 1), lastCol = e.index(linear.cols - 1);
  SmallVector<TileCopy> copies;
  // The depth offset of a thread's copies is the same for all of them
  // (blockThreads is a multiple of the 16-byte chunks per row).
  auto addCopies = [&](OpOperand *operand, Value tile, int64_t tileRows,
                       int64_t elements, ArrayRef<unsigned> dims,
                       llvm::function_ref<Value(Value)> indexOf) {
    int64_t perRow = slice / elements;
    int64_t perThread = tileRows * perRow / blockThreads;
    Value chunk = e.rem(tid, e.index(perRow));
    Value depthOffset = e.mul(chunk, e.index(elements));
    for (int64_t c = 0; c < perThread; ++c) {
      Value row = e.div(e.add(tid, e.index(c * blockThreads)), e.index(perRow));
      TileCopy copy{operand, noIvs, {}, depthOffset, tile, elements};
      Value column = depthOffset;
      if (wgmma) {
        Value phase = e.rem(e.div(row, e.index(8 / perRow)), e.index(perRow));
        column = e.mul(arith::XOrIOp::create(b, e.loc, chunk, phase),
                       e.index(elements));
      }
      copy.dest = {row, column};
      setFlat(e, indexOf(row), dims, sizes, copy.ivs);
      copies.push_back(copy);
    }
  };
  std::optional<llamac::TmaRing> ring;
  if (tma) {
    // The stages' mbarriers, set up by thread 0 before any load.
    Value barriers = launch.addWorkgroupAttribution(
        MemRefType::get({llamac::TmaRing::barrierCount(stages)}, i64,
                        MemRefLayoutAttrInterface(), workgroup),
        e.loc);
    ring.emplace(
        llamac::TmaRing{e, sharedAddress(barriers), stages, blockWarps});
    ring->init(e.eq(tid, e.index(0)));
    gpu::BarrierOp::create(b, e.loc);
  } else {
    addCopies(linear.activations, aTiles, blockRows,
              narrow ? kCopyBF16 : kCopyF32, linear.rowDims,
              [&](Value row) { return e.min(e.add(blockRow, row), lastRow); });
    // paired: the tile's first half of weight rows from the first half of
    // the columns, the second from the second.
    int64_t halfTile = blockCols / 2;
    addCopies(linear.weights, bTiles, blockCols, kCopyBF16, linear.colDims,
              [&](Value row) {
                if (!paired)
                  return e.min(e.add(blockCol, row), lastCol);
                Value second = e.lt(e.index(halfTile - 1), row);
                Value skip = e.select(second, e.index(paired->half - halfTile),
                                      e.index(0));
                return e.add(e.add(e.div(blockCol, e.index(2)), row), skip);
              });
  }

  // The accumulators: mma.sync's as f32 values, wgmma's as the struct its
  // inline assembly takes and returns.
  int64_t accumulators = tilesM * tilesN * 4;
  SmallVector<Value> initAcc;
  Value aShared, bShared;
  if (wgmma) {
    auto accType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(accumulators, b.getF32Type()));
    initAcc.push_back(LLVM::ZeroOp::create(b, e.loc, accType));
    // The warpgroup's 64 rows of the activation tile.
    aShared =
        e.add(sharedAddress(aTiles),
              e.mul(arith::IndexCastUIOp::create(b, e.loc, i64, warpgroup),
                    e.i64(kWgmmaRows * slice * 2)));
    bShared = sharedAddress(bTiles);
  } else {
    initAcc.assign(accumulators, e.f32(0.0));
  }
  int64_t splitDepth = linear.depth / splits;
  Value depthBegin = e.mul(split, e.index(splitDepth));
  Value lastSlice = e.add(depthBegin, e.index(splitDepth - slice));
  // How far ahead the copies run: stages - 1 slices, or for wgmma, whose
  // group of a slice stays in flight through the next iteration (its stage
  // still being read), stages - 2. The first `ahead` slices go out before
  // the loop; slices past the split's end copy its last slice again into a
  // stage no later iteration reads (every iteration commits one group, so
  // the count of groups still in flight that means "this iteration's slice
  // is in" stays ahead - 1).
  int64_t ahead = wgmma ? stages - 2 : stages - 1;
  assert(ahead >= 1 && "bf16 tiles leave room for four stages");
  int64_t splitSlices = splitDepth / slice;
  if (tma) {
    // Two roles: the consumer warps run the loop below and store the
    // output; the producer warp's first thread loads the split's slices
    // (TmaRing::produce). The branch is on the warp index as lane 0 holds
    // it: ptxas then sees that it is warp-uniform (else it serializes the
    // wgmmas inside).
    Value warp32 = arith::IndexCastUIOp::create(b, e.loc, b.getI32Type(), warp);
    Value uniformWarp =
        gpu::ShuffleOp::create(b, e.loc, warp32, /*offset=*/0, /*width=*/32,
                               gpu::ShuffleMode::IDX)
            .getShuffleResult();
    auto roles = scf::IfOp::create(
        b, e.loc,
        arith::CmpIOp::create(
            b, e.loc, arith::CmpIPredicate::ult, uniformWarp,
            arith::ConstantIntOp::create(b, e.loc, blockWarps, 32)),
        /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard inProducer(b);
      b.setInsertionPoint(roles.elseBlock()->getTerminator());
      auto producer = scf::IfOp::create(
          b, e.loc, e.eq(tid, e.index(blockThreads)), /*withElseRegion=*/false);
      b.setInsertionPointToStart(&producer.getThenRegion().front());
      ring->produce(splitSlices, depthBegin, slice, stageBytes, maps,
                    {blockRow, blockCol}, mapRanks, [&](Value stage) {
                      Value stage64 =
                          arith::IndexCastUIOp::create(b, e.loc, i64, stage);
                      return SmallVector<Value>{
                          e.add(sharedAddress(aTiles),
                                e.mul(stage64, e.i64(aStageBytes))),
                          e.add(sharedAddress(bTiles),
                                e.mul(stage64, e.i64(bStageBytes)))};
                    });
    }
    b.setInsertionPoint(roles.thenBlock()->getTerminator());
  } else {
    for (int64_t s = 0; s < ahead; ++s)
      issueSlice(e, op, linear.depthDim, copies,
                 e.min(e.add(depthBegin, e.index(s * slice)), lastSlice),
                 e.index(s));
  }
  auto loop = scf::ForOp::create(b, e.loc, depthBegin,
                                 e.add(depthBegin, e.index(splitDepth)),
                                 e.index(slice), initAcc);
  {
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    Value depth = loop.getInductionVar();
    Value sliceIndex = e.div(e.sub(depth, depthBegin), e.index(slice));
    Value stage = e.rem(sliceIndex, e.index(stages));
    if (tma) {
      // The stage's (sliceIndex / stages)-th load: that phase's parity.
      ring->wait(stage, e.rem(e.div(sliceIndex, e.index(stages)), e.index(2)));
    } else {
      NVVM::CpAsyncWaitGroupOp::create(b, e.loc, ahead - 1);
      // wgmma reads shared memory through the async proxy: this thread's
      // copies (generic proxy) made visible to it.
      if (wgmma)
        NVVM::FenceProxyOp::create(
            b, e.loc,
            NVVM::ProxyKindAttr::get(b.getContext(),
                                     NVVM::ProxyKind::async_shared),
            NVVM::SharedSpaceAttr::get(b.getContext(),
                                       NVVM::SharedSpace::shared_cta));
      // Every thread's copies of this slice are in, and every warp is done
      // with the stage the next copies overwrite (mma.sync: the previous
      // slice's; wgmma: the one before, whose group each warp waited for
      // in the previous iteration).
      gpu::BarrierOp::create(b, e.loc);
      Value next = e.min(e.add(depth, e.index(ahead * slice)), lastSlice);
      issueSlice(e, op, linear.depthDim, copies, next,
                 e.rem(e.add(sliceIndex, e.index(ahead)), e.index(stages)));
    }
    SmallVector<Value> acc(loop.getRegionIterArgs());
    if (wgmma) {
      // The slice's k-steps of 16 (32 bytes of each row) as one group; then wait
      // for the previous slice's group, so that one stays in flight.
      Value stage64 = arith::IndexCastUIOp::create(b, e.loc, i64, stage);
      auto at = [&](Value base, int64_t tileStageBytes, int64_t step) {
        Value stageOffset = e.mul(stage64, e.i64(tileStageBytes));
        Value address = e.add(base, stageOffset);
        Value stepOffset = e.i64(step * 16 * 2);
        return llamac::wgmmaDescriptor(e, e.add(address, stepOffset),
                                         slice * 2);
      };
      NVVM::WgmmaFenceAlignedOp::create(b, e.loc);
      for (int64_t step = 0; step < slice / 16; ++step)
        acc[0] = llamac::wgmmaBf16(e, blockCols, at(aShared, aStageBytes, step),
                                   at(bShared, bStageBytes, step), acc[0]);
      NVVM::WgmmaGroupSyncAlignedOp::create(b, e.loc);
      NVVM::WgmmaWaitGroupSyncOp::create(b, e.loc, 1);
      if (tma) {
        // The previous slice's group has completed: each warp's first lane
        // gives its stage back to the producer.
        Value previous =
            e.rem(e.add(sliceIndex, e.index(stages - 1)), e.index(stages));
        ring->release(previous,
                      arith::AndIOp::create(b, e.loc, e.eq(lane, zero),
                                            e.lt(zero, sliceIndex)));
      }
    } else {
      emitMmaSyncSlice(e, aTiles, bTiles, aType, stage, warpRow, warpCol, group,
                       quadLane, acc);
    }
    scf::YieldOp::create(b, e.loc, acc);
  }
  // No copy or wgmma left in flight when the block ends.
  if (!tma)
    NVVM::CpAsyncWaitGroupOp::create(b, e.loc, 0);
  if (wgmma)
    NVVM::WgmmaWaitGroupSyncOp::create(b, e.loc, 0);
  if (tma) {
    blockBarrier(e, blockThreads);
    ring->invalidate(e.eq(tid, zero));
  }

  Value rowsValue = e.index(linear.rows), colsValue = e.index(linear.cols);
  // paired: the consumer's elements at (row, col + k) of the first half's
  // columns, from the two halves' runs of 4 sums at that column.
  auto storePaired = [&](Value row, Value col, ArrayRef<Value> runs) {
    linalg::LinalgOp consumer = paired->consumer;
    Block *body = consumer.getBlock();
    SmallVector<Value> ivs(op.getNumLoops(), e.index(0));
    setFlat(e, row, linear.rowDims, sizes, ivs);
    for (int64_t k = 0; k < 4; ++k) {
      setFlat(e, e.add(col, e.index(k)), linear.colDims, sizes, ivs);
      SmallVector<Value> consumerIvs;
      for (unsigned d : paired->outputDims)
        consumerIvs.push_back(ivs[d]);
      IRMapping given;
      for (auto [read, run] : {std::pair(paired->first, runs[0]),
                               std::pair(paired->second, runs[1])})
        given.map(body->getArgument(read->getOperandNumber()),
                  vector::ExtractOp::create(b, e.loc, run, k).getResult());
      llamac::emitBody(b, e.loc, consumer, consumerIvs, given);
    }
  };
  // wgmma: the block's tile leaves through shared memory as 16-byte runs of
  // its rows where the output allows (see storeTileRows).
  bool stagedOutput =
      wgmma &&
      blockRows * (blockCols + kOutputPad) * 4 <= stages * stageBytes &&
      (paired ||
       (partial ? linear.cols % 4 == 0 : outputTakesRuns(op, linear)));
  // (wgmma's stages always hold the tile: 192 KB of them.)
  assert((!paired || stagedOutput) && "a paired epilogue reads a staged tile");
  if (stagedOutput) {
    OutputTile tile{raw,
                    shift,
                    blockRows,
                    blockCols,
                    blockThreads,
                    blockRow,
                    paired ? e.div(blockCol, e.index(2)) : blockCol,
                    rowsValue,
                    paired ? e.index(paired->half) : colsValue,
                    tma ? blockThreads : 0};
    storeTileRows(
        e, tile, loop.getResult(0), tilesN, warpRow, group, quadLane, tid,
        paired != nullptr, [&](Value row, Value col, ArrayRef<Value> runs) {
          if (paired)
            storePaired(row, col, runs);
          else if (partial)
            llamac::storeRun(e, runs[0], partial, ValueRange{split, row, col});
          else
            storeOutput(e, op, linear, initIsIdentity, row, col, runs[0]);
        });
  } else {
    // Accumulator c of tile (i, j): row g (+ 8 for c >= 2), column 2t + c % 2.
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < tilesN; ++j)
        for (int64_t c = 0; c < 4; ++c) {
          Value row = e.add(rowBase,
                            e.add(group, e.index(kTileRows * i + 8 * (c / 2))));
          Value col = e.add(colBase, e.add(e.mul(quadLane, e.index(2)),
                                           e.index(kTileCols * j + c % 2)));
          Value inside = arith::AndIOp::create(b, e.loc, e.lt(row, rowsValue),
                                               e.lt(col, colsValue));
          auto guard = scf::IfOp::create(b, e.loc, inside, false);
          OpBuilder::InsertionGuard inGuard(b);
          b.setInsertionPointToStart(&guard.getThenRegion().front());
          int64_t index = (i * tilesN + j) * 4 + c;
          Value sum = wgmma ? LLVM::ExtractValueOp::create(
                                  b, e.loc, loop.getResult(0), index)
                                  .getResult()
                            : loop.getResult(index);
          if (partial)
            memref::StoreOp::create(b, e.loc, sum, partial,
                                    ValueRange{split, row, col});
          else
            storeOutput(e, op, linear, initIsIdentity, row, col, sum);
        }
  }
  if (partial) {
    b.setInsertionPointAfter(launch);
    emitSplitSum(e, op, linear, initIsIdentity, partial, splits,
                 namer.name(op, "mma_sum"));
    memref::DeallocOp::create(b, e.loc, partial);
  }
  op->erase();
}
