//===- MergeSiblingLinears.cpp - one linear layer for q/k/v, gate/up -*- C++ -*-===//
//
// Linear layers (as llama-to-linalg writes them) that read the same input
// and whose weights lie back to back in the blob become one linear layer
// over the merged rows; each old result is a slice of the new one.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAMERGESIBLINGLINEARS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// A linear layer out[b, s, n] = fill + sum_k x[b, s, k] * w[n, k], its
/// weight a view of the blob at a constant byte offset.
struct Linear {
  mutable linalg::GenericOp op; // (its accessors are not const)
  Value input, blob, fillValue;
  int64_t offset, rows, cols;
  Type weightType;

  /// The byte offset just past the weight.
  int64_t end() const {
    return offset + rows * cols * weightType.getIntOrFloatBitWidth() / 8;
  }
};

std::optional<Linear> matchLinear(linalg::GenericOp op) {
  MLIRContext *ctx = op.getContext();
  auto map4 = [&](ArrayRef<unsigned> dims) {
    return AffineMap::getMultiDimMapWithTargets(4, dims, ctx);
  };
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 4 || op.getNumReductionLoops() != 1 ||
      op.getIndexingMapsArray() !=
          SmallVector<AffineMap>{map4({0, 2, 3}), map4({1, 3}),
                                 map4({0, 2, 1})} ||
      !isa<RankedTensorType>(op.getResult(0).getType()))
    return std::nullopt;
  auto toTensor =
      op.getDpsInputs()[1].getDefiningOp<bufferization::ToTensorOp>();
  auto view = toTensor ? toTensor.getBuffer().getDefiningOp<memref::ViewOp>()
                       : memref::ViewOp();
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!view || !fill || !view.getSizes().empty() ||
      !isa<BlockArgument>(view.getSource()))
    return std::nullopt;
  std::optional<int64_t> offset = getConstantIntValue(view.getByteShift());
  auto weight = cast<MemRefType>(view.getType());
  if (!offset || !weight.hasStaticShape() || weight.getRank() != 2)
    return std::nullopt;
  return Linear{op,
                op.getDpsInputs()[0],
                view.getSource(),
                fill.getInputs()[0],
                *offset,
                weight.getDimSize(0),
                weight.getDimSize(1),
                weight.getElementType()};
}

/// Whether `next`'s weight rows start where `prev`'s end, and it is the same
/// computation on the same input.
bool follows(const Linear &prev, const Linear &next) {
  return next.input == prev.input && next.blob == prev.blob &&
         next.fillValue == prev.fillValue && next.cols == prev.cols &&
         next.weightType == prev.weightType &&
         next.offset == prev.end() &&
         next.op->getBlock() == prev.op->getBlock() &&
         OperationEquivalence::isRegionEquivalentTo(
             &prev.op.getRegion(), &next.op.getRegion(),
             OperationEquivalence::Flags::IgnoreLocations);
}

/// The importer's op name of `op`, if it has one.
std::optional<std::string> opName(Operation *op) {
  std::optional<std::string> name;
  op->getLoc()->walk([&](Location loc) {
    if (auto named = dyn_cast<NameLoc>(loc)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

/// model.layers.0.self_attn.q_proj+k_proj+v_proj: the merged layer's name
/// (and so its kernel's), over the fused locations of the layers.
Location mergedLoc(ArrayRef<Linear> run) {
  MLIRContext *ctx = run.front().op.getContext();
  Location fused = FusedLoc::get(
      ctx, llvm::map_to_vector(run, [](const Linear &l) {
        return l.op->getLoc();
      }));
  std::optional<std::string> first = opName(run.front().op);
  if (!first)
    return fused;
  std::string name = *first;
  StringRef prefix = StringRef(*first).rsplit('.').first;
  for (const Linear &l : run.drop_front()) {
    std::optional<std::string> other = opName(l.op);
    StringRef part = other ? StringRef(*other) : StringRef("op");
    if (part.consume_front(prefix))
      part.consume_front(".");
    name += "+" + part.str();
  }
  return NameLoc::get(StringAttr::get(ctx, name), fused);
}

/// Replaces `run` (two or more, in weight order) by one linear layer.
void merge(ArrayRef<Linear> run) {
  // Before the first of them in the block: the input and the fill value
  // dominate every one of them, so they dominate that point.
  Operation *first = run.front().op;
  for (const Linear &l : run)
    if (l.op->isBeforeInBlock(first))
      first = l.op;
  IRRewriter b(first->getContext());
  b.setInsertionPoint(first);
  Location loc = first->getLoc();
  int64_t rows = 0;
  for (const Linear &l : run)
    rows += l.rows;
  const Linear &head = run.front();
  auto weightType = MemRefType::get({rows, head.cols}, head.weightType);
  Value offset = arith::ConstantIndexOp::create(b, loc, head.offset);
  Value view = memref::ViewOp::create(b, loc, weightType, head.blob, offset,
                                      ValueRange{});
  Value weight = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(weightType.getShape(), head.weightType),
      view, /*restrict=*/true, /*writable=*/false);
  auto resultType = cast<RankedTensorType>(head.op.getResult(0).getType());
  SmallVector<int64_t> shape(resultType.getShape());
  shape.back() = rows;
  Value empty =
      tensor::EmptyOp::create(b, loc, shape, resultType.getElementType());
  Value init =
      linalg::FillOp::create(b, loc, head.fillValue, empty).getResult(0);
  auto merged = cast<linalg::GenericOp>(b.clone(*head.op));
  merged->setOperands({head.input, weight, init});
  merged.getResult(0).setType(init.getType());
  merged->setLoc(mergedLoc(run));
  int64_t start = 0;
  for (const Linear &l : run) {
    auto type = cast<RankedTensorType>(l.op.getResult(0).getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    offsets.back() = b.getIndexAttr(start);
    SmallVector<OpFoldResult> sizes =
        getAsIndexOpFoldResult(b.getContext(), type.getShape());
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(
        b, loc, type, merged.getResult(0), offsets, sizes, strides);
    b.replaceOp(l.op, slice);
    start += l.rows;
  }
}

struct LlamaMergeSiblingLinears
    : llamac::impl::LlamaMergeSiblingLinearsBase<LlamaMergeSiblingLinears> {
  void runOnOperation() override {
    SmallVector<Linear> linears;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Linear> l = matchLinear(op))
        linears.push_back(*l);
    });
    // Runs of weights back to back, in blob order.
    llvm::sort(linears, [](const Linear &a, const Linear &b) {
      return a.offset < b.offset;
    });
    llvm::DenseSet<Operation *> merged;
    for (size_t i = 0; i < linears.size(); ++i) {
      if (merged.contains(linears[i].op))
        continue;
      SmallVector<Linear> run = {linears[i]};
      for (size_t j = i + 1; j < linears.size(); ++j) {
        if (linears[j].offset > run.back().end())
          break;
        if (!merged.contains(linears[j].op) && follows(run.back(), linears[j]))
          run.push_back(linears[j]);
      }
      if (run.size() < 2)
        continue;
      for (const Linear &l : run)
        merged.insert(l.op);
      merge(run);
    }
  }
};

} // namespace
