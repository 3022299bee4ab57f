//===- FlashAttentionTensorCore.cpp - prefill on mma.sync -*- C++ -*-===//
//
// A prefill chunk's attention (many queries, each seeing hundreds or
// thousands of keys) on the tensor cores, in FlashAttention-2's form: a warp
// takes 16 query rows of one head and walks its split of the keys a tile at
// a time: the tile's scores S = Q K^T by mma.sync.m16n8k8, their online
// softmax in registers (a row's maximum over the quad of lanes that hold
// it), then O += P V with P taken straight from S's accumulators. No score
// reaches memory.
//
// f32 precision from tf32 mmas (the executable computes in f32; its cache
// is f32): each operand x is split into big + small, big = x's top 19 bits,
// small = the rest (also cut to tf32), and x y = big big + big small +
// small big up to 2^-20 of x y (the small small term), three mmas a step.
// With the plan's bf16Products (models whose activations the linear layers
// round to bf16 anyway, as PyTorch's bf16 attention does), Q, K, the
// probabilities and V are rounded to bf16 instead: one m16n8k16 mma for
// two k-steps of eight, a quarter of the operand registers.
//
// The keys and values come through shared memory a tile at a time
// (kTileStages below), for the head dims whose tiles it lays out without
// bank conflicts (32, 64, 128); others load their rows straight from the
// cache.
//
// Fragments (PTX ISA, m16n8k8 .tf32), lane = 4 g + j: A (16 x 8) a0 (g, j),
// a1 (g + 8, j), a2 (g, j + 4), a3 (g + 8, j + 4); B (8 x 8) b0 (k j, n g),
// b1 (k j + 4, n g); C (16 x 8) c0, c1 (g, 2j and 2j + 1), c2, c3 (g + 8,
// likewise). Which k an mma's slot holds is free as long as A and B agree,
// and which output column an n is is the kernel's choice; both are chosen
// so that a lane's loads are runs of consecutive floats and P needs no
// shuffle:
//  - Q K^T: slots j and j + 4 of k-step t are head dims (D/4) j + 2t and
//    the next: a lane's query and key elements are D/4 consecutive floats;
//  - P V: slots j and j + 4 of a tile's k-step (8 keys) are keys 2j and
//    2j + 1, where S's accumulators c0, c1 (c2, c3) left them; n-tile u's
//    column n is head dim (D/8) n + u: a lane reads D/8 consecutive floats
//    of each value row and writes D/8 consecutive outputs.
//
//===----------------------------------------------------------------------===//
#include "FlashAttentionKernels.h"
#include "MmaSync.h"

#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace {

using llamac::Emitter;
using llamac::FlashPlan;

/// An operand fragment as tf32 big and small parts (i32 registers).
struct Split {
  SmallVector<Value> big, small;
};

/// tf32 keeps an f32's sign, exponent and top 10 mantissa bits.
constexpr int32_t kTF32Mask = static_cast<int32_t>(0xFFFFE000u);

Split splitTF32(Emitter &e, ArrayRef<Value> xs) {
  Type i32 = e.b.getI32Type();
  Value mask =
      arith::ConstantOp::create(e.b, e.loc, e.b.getI32IntegerAttr(kTF32Mask));
  auto cut = [&](Value x) {
    return arith::AndIOp::create(
               e.b, e.loc, arith::BitcastOp::create(e.b, e.loc, i32, x), mask)
        .getResult();
  };
  Split s;
  for (Value x : xs) {
    Value big = cut(x);
    Value rest =
        e.sub(x, arith::BitcastOp::create(e.b, e.loc, e.b.getF32Type(), big));
    s.big.push_back(big);
    s.small.push_back(cut(rest));
  }
  return s;
}

/// acc + a b in f32 precision: the small products first.
SmallVector<Value> mmaF32(Emitter &e, const Split &a, const Split &b,
                          SmallVector<Value> acc) {
  auto tf32 = NVVM::MMATypes::tf32;
  acc = llamac::mmaSync(e, tf32, a.small, b.big, acc);
  acc = llamac::mmaSync(e, tf32, a.big, b.small, acc);
  return llamac::mmaSync(e, tf32, a.big, b.big, acc);
}

Value element(Emitter &e, Value vector, int64_t i) {
  return vector::ExtractOp::create(e.b, e.loc, vector, i);
}

/// x and y rounded to bf16 as one mma register (x in the low half, the
/// fragment's lower-indexed element).
Value bf16Pair(Emitter &e, Value x, Value y) {
  Value pair = vector::FromElementsOp::create(
      e.b, e.loc, VectorType::get({2}, e.b.getF32Type()), ValueRange{x, y});
  Value narrow = arith::TruncFOp::create(
      e.b, e.loc, VectorType::get({2}, e.b.getBF16Type()), pair);
  Value word = vector::BitCastOp::create(
      e.b, e.loc, VectorType::get({1}, e.b.getI32Type()), narrow);
  return vector::ExtractOp::create(e.b, e.loc, word, 0);
}

/// Key and value tiles through shared memory: the block's warps (query
/// heads of one kv head, the same query rows and keys) read each tile once
/// from L2 between them, and cp.async brings the next kTileStages - 1 tiles
/// while they multiply this one (a warp loading its own rows waited on
/// each tile's loads: a latency-bound loop at 8 warps an SM). T x D is
/// 2,048 floats (8 KB) for the head dims this covers, so the three stages
/// of keys and values fill the 48 KB of static shared memory. On an H200
/// (KERNEL_NOTES, session 19) the 1B's prefill of 2,048 tokens ran 13%
/// faster (81.3k -> 91.9k tok/s), of 512 4%.
constexpr int64_t kTileStages = 3;

/// Head dims whose tile rows the slot functions below spread over all
/// banks.
bool sharedTilesFit(llama::FlashAttentionOp op, const FlashPlan &p) {
  auto aligned = [](Value buffer) {
    return llamac::runAlignment(cast<MemRefType>(buffer.getType()), 4) == 16;
  };
  int64_t D = p.headDim;
  return (D == 32 || D == 64 || D == 128) && p.keyTile * D == 2048 &&
         aligned(op.getKeys()) && aligned(op.getValues());
}

/// Where 16-byte chunk `chunk` of tile row `row` is stored in a row. The
/// reads of a quarter-warp (lanes 4g + j, g < 2, j < 4: 8 lanes a 16-byte
/// load) must cover 8 distinct chunk positions modulo 8 (the 32 banks):
///  - a key row: lane (g, j) reads row g's chunks j D/16 + k, so the
///    position is chunk ^ ((chunk / 8 % 4) * 2 + row % 2);
///  - a value row: lane (g, j) reads rows 2j, 2j + 1's chunks g D/32 + k,
///    g's bit at log2(D/32) of the chunk; j = row / 2 % 4 is spread over
///    the other two of bits 0-2.
Value keySlot(Emitter &e, Value chunk, Value row) {
  Value twist =
      e.add(e.mul(e.rem(e.div(chunk, e.index(8)), e.index(4)), e.index(2)),
            e.rem(row, e.index(2)));
  return arith::XOrIOp::create(e.b, e.loc, chunk, twist);
}
Value valueSlot(Emitter &e, Value chunk, Value row, int64_t headDim) {
  int64_t gBit = llvm::Log2_64(headDim / 32);
  SmallVector<int64_t> free;
  for (int64_t bit = 0; bit < 3; ++bit)
    if (bit != gBit)
      free.push_back(bit);
  Value j = e.rem(e.div(row, e.index(2)), e.index(4));
  Value twist =
      e.add(e.mul(e.rem(j, e.index(2)), e.index(int64_t{1} << free[0])),
            e.mul(e.div(j, e.index(2)), e.index(int64_t{1} << free[1])));
  return arith::XOrIOp::create(e.b, e.loc, chunk, twist);
}

/// `n` floats of a tile row from 16-byte chunk positions `slots`.
Value loadSlots(Emitter &e, Value tiles, Value stage, Value row,
                ArrayRef<Value> slots) {
  auto f32x4 = VectorType::get({4}, e.b.getF32Type());
  SmallVector<Value> parts;
  for (Value slot : slots) {
    Value run =
        vector::LoadOp::create(e.b, e.loc, f32x4, tiles,
                               ValueRange{stage, row, e.mul(slot, e.index(4))},
                               /*nontemporal=*/false, llvm::Align(16));
    for (int64_t i = 0; i < 4; ++i)
      parts.push_back(vector::ExtractOp::create(e.b, e.loc, run, i));
  }
  return vector::FromElementsOp::create(
      e.b, e.loc,
      VectorType::get({static_cast<int64_t>(parts.size())}, e.b.getF32Type()),
      parts);
}

/// The maximum (or sum) of the quad of lanes that hold a row.
Value quadMax(Emitter &e, Value x) {
  x = e.max(x, e.shuffleXor(x, 1));
  return e.max(x, e.shuffleXor(x, 2));
}
Value quadSum(Emitter &e, Value x) {
  x = e.add(x, e.shuffleXor(x, 1));
  return e.add(x, e.shuffleXor(x, 2));
}

} // namespace

void llamac::emitTensorCoreAttendKernel(Emitter &e, llama::FlashAttentionOp op,
                                        const FlashPlan &p, Value partialMax,
                                        Value partialSum, Value partialAcc,
                                        const std::string &name) {
  const int64_t S = p.seq, H = p.heads, D = p.headDim, T = p.keyTile;
  const int64_t R = llamac::kTensorCoreRows, steps = D / 8, qRun = D / 4,
                vRun = D / 8;
  const int64_t groups = (S + R - 1) / R;
  const int64_t items = p.maxSplits * groups * H;
  OpBuilder::InsertionGuard guard(e.b);
  gpu::LaunchOp launch =
      e.launchWarps(e.index(items / p.warpsPerBlock), p.warpsPerBlock, name);
  Value len = memref::DimOp::create(e.b, e.loc, op.getKeys(), 1);
  Value splits = llamac::splitsFor(e, p, len);
  Value chunk =
      e.mul(e.ceilDiv(e.ceilDiv(len, splits), e.index(T)), e.index(T));
  Value tid = launch.getThreadIds().x;
  Value lane = e.rem(tid, e.index(32));
  Value g = e.div(lane, e.index(4)), j = e.rem(lane, e.index(4));
  llamac::WarpItem w = llamac::warpItem(e, launch, p, groups);
  Value h = w.head, group = w.queryBlock, split = w.split, kvHead = w.kvHead;
  // The lane's two rows (g and g + 8 of the warp's 16); rows past the
  // chunk (S not a multiple of 16) load the last query and are not stored.
  Value firstRow = e.mul(group, e.index(R));
  Value rows[2] = {e.add(firstRow, g), e.add(firstRow, e.add(g, e.index(8)))};
  Value lastQuery = e.index(S - 1);
  // Query s sees the keys before len - S + s + 1; the split its share of
  // them, up to what its last row sees.
  Value sinceKeys = e.sub(len, e.index(S));
  Value visible[2];
  for (int r = 0; r < 2; ++r)
    visible[r] = e.add(sinceKeys, e.add(rows[r], e.index(1)));
  Value groupEnd = e.min(e.add(sinceKeys, e.add(firstRow, e.index(R))), len);
  Value begin = e.mul(split, chunk);
  Value end = e.min(e.add(begin, chunk), groupEnd);
  Value ends[2] = {e.min(end, visible[0]), e.min(end, visible[1])};

  // The lane's query elements, scaled once, as A fragments of each k-step.
  Value qFirst = e.mul(j, e.index(qRun));
  Value scale = e.splat(e.f32(op.getScale().convertToFloat()), qRun);
  Value q[2];
  for (int r = 0; r < 2; ++r)
    q[r] = e.mul(
        llamac::loadRun(e, op.getQ(),
                        ValueRange{e.min(rows[r], lastQuery), h, qFirst}, qRun),
        scale);
  // bf16: k-step t of 16 takes elements 4t .. 4t + 3 of the lane's runs,
  // slots 2j, 2j + 1 the first two, 2j + 8, 2j + 9 the others (a key's
  // likewise, so that the products still meet).
  const bool bf16 = p.bf16Products;
  SmallVector<Split> queryParts;
  SmallVector<SmallVector<Value>> queryPairs;
  if (bf16)
    for (int64_t t = 0; t < D / 16; ++t)
      queryPairs.push_back(
          {bf16Pair(e, element(e, q[0], 4 * t), element(e, q[0], 4 * t + 1)),
           bf16Pair(e, element(e, q[1], 4 * t), element(e, q[1], 4 * t + 1)),
           bf16Pair(e, element(e, q[0], 4 * t + 2),
                    element(e, q[0], 4 * t + 3)),
           bf16Pair(e, element(e, q[1], 4 * t + 2),
                    element(e, q[1], 4 * t + 3))});
  else
    for (int64_t t = 0; t < steps; ++t)
      queryParts.push_back(splitTF32(
          e, {element(e, q[0], 2 * t), element(e, q[1], 2 * t),
              element(e, q[0], 2 * t + 1), element(e, q[1], 2 * t + 1)}));

  // Shared key and value tiles (kTileStages): each thread's 16-byte
  // copies of a tile (consecutive threads, consecutive chunks of a row;
  // rows past the keys copy the last key, scored -inf), and the positions
  // of the lane's chunks of its key row (g) and value rows (2j, 2j + 1).
  bool shared = sharedTilesFit(op, p);
  Value keyTiles, valueTiles;
  SmallVector<Value> keySlots, valueSlots[2];
  struct TileCopy {
    Value row, chunk, keySlot, valueSlot;
  };
  SmallVector<TileCopy> copies;
  Value lastKey = e.sub(len, e.index(1));
  auto issueTile = [&](Value tileStart, Value stage) {
    SmallVector<Value> tokens;
    for (const TileCopy &c : copies) {
      SmallVector<Value> from{kvHead, e.min(e.add(tileStart, c.row), lastKey),
                              e.mul(c.chunk, e.index(4))};
      auto copy = [&](Value source, Value tiles, Value slot) {
        tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
            e.b, e.loc, tiles,
            ValueRange{stage, c.row, e.mul(slot, e.index(4))}, source, from,
            e.b.getIndexAttr(4), /*srcElements=*/Value(),
            /*bypassL1=*/e.b.getUnitAttr()));
      };
      copy(op.getKeys(), keyTiles, c.keySlot);
      copy(op.getValues(), valueTiles, c.valueSlot);
    }
    nvgpu::DeviceAsyncCreateGroupOp::create(e.b, e.loc, tokens);
  };
  if (shared) {
    auto tileType = MemRefType::get(
        {kTileStages, T, D}, e.b.getF32Type(), MemRefLayoutAttrInterface(),
        gpu::AddressSpaceAttr::get(e.b.getContext(),
                                   gpu::AddressSpace::Workgroup));
    keyTiles = launch.addWorkgroupAttribution(tileType, e.loc);
    valueTiles = launch.addWorkgroupAttribution(tileType, e.loc);
    int64_t threads = 32 * p.warpsPerBlock, chunksPerRow = D / 4;
    for (int64_t i = 0; i < T * chunksPerRow / threads; ++i) {
      Value flat = e.add(tid, e.index(i * threads));
      Value row = e.div(flat, e.index(chunksPerRow));
      Value chunk = e.rem(flat, e.index(chunksPerRow));
      copies.push_back(
          {row, chunk, keySlot(e, chunk, row), valueSlot(e, chunk, row, D)});
    }
    for (int64_t k = 0; k < qRun / 4; ++k)
      keySlots.push_back(
          keySlot(e, e.add(e.mul(j, e.index(qRun / 4)), e.index(k)), g));
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t k = 0; k < vRun / 4; ++k)
        valueSlots[r].push_back(
            valueSlot(e, e.add(e.mul(g, e.index(vRun / 4)), e.index(k)),
                      e.add(e.mul(j, e.index(2)), e.index(r)), D));
    for (int64_t stage = 0; stage + 1 < kTileStages; ++stage)
      issueTile(e.add(begin, e.index(stage * T)), e.index(stage));
  }

  // Loop state: the output tiles' accumulators (D/8 n-tiles of 4), each
  // row's running maximum and the lane's part of its sum.
  SmallVector<Value> init(4 * vRun, e.f32(0.0));
  init.append({e.minusInf(), e.minusInf(), e.f32(0.0), e.f32(0.0)});
  auto loop = scf::ForOp::create(e.b, e.loc, begin, end, e.index(T), init);
  {
    OpBuilder::InsertionGuard inLoop(e.b);
    e.b.setInsertionPointToStart(loop.getBody());
    Value tile = loop.getInductionVar();
    ValueRange state = loop.getRegionIterArgs();
    SmallVector<Value> out(state.begin(), state.begin() + 4 * vRun);
    Value maxima[2] = {state[4 * vRun], state[4 * vRun + 1]};
    Value sums[2] = {state[4 * vRun + 2], state[4 * vRun + 3]};
    // Shared tiles: this tile's copies are in and every warp is done with
    // the stage the next copies overwrite (the previous tile's).
    Value stage;
    if (shared) {
      Value index = e.div(e.sub(tile, begin), e.index(T));
      stage = e.rem(index, e.index(kTileStages));
      NVVM::CpAsyncWaitGroupOp::create(e.b, e.loc, kTileStages - 2);
      gpu::BarrierOp::create(e.b, e.loc);
      issueTile(
          e.add(tile, e.index((kTileStages - 1) * T)),
          e.rem(e.add(index, e.index(kTileStages - 1)), e.index(kTileStages)));
    }

    // Scores of the tile's T / 8 n-tiles; keys past the split or past what
    // a row sees score -inf (their rows are loaded clamped, unbranched).
    SmallVector<SmallVector<Value>> scores;
    for (int64_t n = 0; n < T / 8; ++n) {
      Value tileKey = e.add(tile, e.index(8 * n));
      Value key =
          shared ? loadSlots(e, keyTiles, stage, e.add(e.index(8 * n), g),
                             keySlots)
                 : llamac::loadRun(e, op.getKeys(),
                                   ValueRange{kvHead,
                                              e.min(e.add(tileKey, g), lastKey),
                                              qFirst},
                                   qRun);
      SmallVector<Value> acc(4, e.f32(0.0));
      if (bf16)
        for (int64_t t = 0; t < D / 16; ++t)
          acc = llamac::mmaSync(
              e, NVVM::MMATypes::bf16, queryPairs[t],
              {bf16Pair(e, element(e, key, 4 * t), element(e, key, 4 * t + 1)),
               bf16Pair(e, element(e, key, 4 * t + 2),
                        element(e, key, 4 * t + 3))},
              acc);
      else
        for (int64_t t = 0; t < steps; ++t)
          acc = mmaF32(e, queryParts[t],
                       splitTF32(e, {element(e, key, 2 * t),
                                     element(e, key, 2 * t + 1)}),
                       acc);
      Value key0 = e.add(tileKey, e.mul(j, e.index(2)));
      Value keys[2] = {key0, e.add(key0, e.index(1))};
      for (int64_t c = 0; c < 4; ++c)
        acc[c] = e.select(e.lt(keys[c % 2], ends[c / 2]), acc[c], e.minusInf());
      scores.push_back(acc);
    }
    // Online softmax, a row at a time (accumulators 0, 1: row g; 2, 3:
    // row g + 8).
    for (int r = 0; r < 2; ++r) {
      Value tileMax = maxima[r];
      for (auto &acc : scores)
        tileMax = e.max(tileMax, e.max(acc[2 * r], acc[2 * r + 1]));
      tileMax = quadMax(e, tileMax);
      Value ref = e.reference(tileMax);
      Value rescale = e.exp(e.sub(maxima[r], ref));
      Value sum = e.mul(sums[r], rescale);
      for (auto &acc : scores)
        for (int c = 2 * r; c < 2 * r + 2; ++c) {
          acc[c] = e.exp(e.sub(acc[c], ref));
          sum = e.add(sum, acc[c]);
        }
      for (int64_t u = 0; u < vRun; ++u)
        for (int c = 2 * r; c < 2 * r + 2; ++c)
          out[4 * u + c] = e.mul(out[4 * u + c], rescale);
      maxima[r] = tileMax;
      sums[r] = sum;
    }
    // O += P V. The lane's value rows 8n + 2j + k (k = 0, 1) of n-tile n.
    Value vFirst = e.mul(g, e.index(vRun));
    auto loadValue = [&](int64_t n, int64_t k) {
      Value key0 = e.add(e.add(tile, e.index(8 * n)), e.mul(j, e.index(2)));
      return shared ? loadSlots(e, valueTiles, stage,
                                e.add(e.index(8 * n),
                                      e.add(e.mul(j, e.index(2)), e.index(k))),
                                valueSlots[k])
                    : llamac::loadRun(
                          e, op.getValues(),
                          ValueRange{kvHead,
                                     e.min(e.add(key0, e.index(k)), lastKey),
                                     vFirst},
                          vRun);
    };
    // bf16: a k-step of 16 per two n-tiles of scores, whose keys 2j, 2j + 1
    // are the lane's slots 2j, 2j + 1 (the first n-tile) and 2j + 8, 2j + 9
    // (the second), as the scores' accumulators left them.
    for (int64_t m = 0; bf16 && m < T / 16; ++m) {
      auto &low = scores[2 * m], &high = scores[2 * m + 1];
      SmallVector<Value> probabilities{
          bf16Pair(e, low[0], low[1]), bf16Pair(e, low[2], low[3]),
          bf16Pair(e, high[0], high[1]), bf16Pair(e, high[2], high[3])};
      Value values[4] = {loadValue(2 * m, 0), loadValue(2 * m, 1),
                         loadValue(2 * m + 1, 0), loadValue(2 * m + 1, 1)};
      for (int64_t u = 0; u < vRun; ++u) {
        SmallVector<Value> acc(out.begin() + 4 * u, out.begin() + 4 * u + 4);
        acc = llamac::mmaSync(
            e, NVVM::MMATypes::bf16, probabilities,
            {bf16Pair(e, element(e, values[0], u), element(e, values[1], u)),
             bf16Pair(e, element(e, values[2], u), element(e, values[3], u))},
            acc);
        std::copy(acc.begin(), acc.end(), out.begin() + 4 * u);
      }
    }
    // tf32: a k-step per n-tile of scores: its keys 2j and 2j + 1 are the
    // lane's slots j and j + 4.
    for (int64_t n = 0; !bf16 && n < T / 8; ++n) {
      auto &pTile = scores[n];
      Split probabilities =
          splitTF32(e, {pTile[0], pTile[2], pTile[1], pTile[3]});
      Value values[2] = {loadValue(n, 0), loadValue(n, 1)};
      for (int64_t u = 0; u < vRun; ++u) {
        SmallVector<Value> acc(out.begin() + 4 * u, out.begin() + 4 * u + 4);
        acc = mmaF32(
            e, probabilities,
            splitTF32(e, {element(e, values[0], u), element(e, values[1], u)}),
            acc);
        std::copy(acc.begin(), acc.end(), out.begin() + 4 * u);
      }
    }
    SmallVector<Value> next(out);
    next.append({maxima[0], maxima[1], sums[0], sums[1]});
    scf::YieldOp::create(e.b, e.loc, next);
  }

  if (shared)
    NVVM::CpAsyncWaitGroupOp::create(e.b, e.loc, 0);

  // Each row's results: the lane's columns (D/8) (2j + b) + u, b = 0, 1.
  auto vecType = VectorType::get({vRun}, e.b.getF32Type());
  for (int r = 0; r < 2; ++r) {
    Value maximum = loop.getResult(4 * vRun + r);
    Value sum = quadSum(e, loop.getResult(4 * vRun + 2 + r));
    OpBuilder::InsertionGuard inRow(e.b);
    auto stored = scf::IfOp::create(e.b, e.loc, e.lt(rows[r], e.index(S)),
                                    /*withElseRegion=*/false);
    e.b.setInsertionPointToStart(&stored.getThenRegion().front());
    Value partialItem =
        e.add(e.mul(e.add(e.mul(split, e.index(S)), rows[r]), e.index(H)), h);
    for (int b = 0; b < 2; ++b) {
      SmallVector<Value> parts;
      for (int64_t u = 0; u < vRun; ++u)
        parts.push_back(loop.getResult(4 * u + 2 * r + b));
      Value run = vector::FromElementsOp::create(e.b, e.loc, vecType, parts);
      Value column =
          e.mul(e.add(e.mul(j, e.index(2)), e.index(b)), e.index(vRun));
      if (p.maxSplits == 1) {
        // Key 0 is visible to every query: the sum is positive.
        llamac::storeRun(e, e.div(run, e.splat(sum, vRun)), op.getInit(),
                         ValueRange{rows[r], h, column});
        continue;
      }
      llamac::storeRun(
          e, run, partialAcc,
          ValueRange{e.add(e.mul(partialItem, e.index(D)), column)});
    }
    if (p.maxSplits == 1)
      continue;
    auto lane0 = scf::IfOp::create(e.b, e.loc, e.eq(j, e.index(0)),
                                   /*withElseRegion=*/false);
    e.b.setInsertionPointToStart(&lane0.getThenRegion().front());
    memref::StoreOp::create(e.b, e.loc, maximum, partialMax,
                            ValueRange{partialItem});
    memref::StoreOp::create(e.b, e.loc, sum, partialSum,
                            ValueRange{partialItem});
  }
}
