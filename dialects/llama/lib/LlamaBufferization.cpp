//===- LlamaBufferization.cpp - bufferization of llama's kernel ops -*- C++ -*-===//
//
// The kernel ops are destination-style like linalg's: the upstream model
// gives the aliasing (init <-> result, inputs only read); bufferize() makes
// the same op on the operands' buffers, with no result.
//
//===----------------------------------------------------------------------===//
#include "llama/LlamaBufferization.h"
#include "llama/LlamaOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {
struct FlashAttentionBufferization
    : DstBufferizableOpInterfaceExternalModel<FlashAttentionBufferization,
                                              llama::FlashAttentionOp> {
  // The init is only written (every element): a fresh buffer needs no copy
  // of what the init held.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto attention = cast<llama::FlashAttentionOp>(op);
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    llama::FlashAttentionOp::create(rewriter, op->getLoc(), TypeRange{},
                                    buffers[0], buffers[1], buffers[2],
                                    buffers[3], attention.getScaleAttr());
    replaceOpWithBufferizedValues(rewriter, op, buffers[3]);
    return success();
  }
};
} // namespace

void mlir::llama::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LlamaDialect *) {
    llama::FlashAttentionOp::attachInterface<FlashAttentionBufferization>(
        *ctx);
  });
}
