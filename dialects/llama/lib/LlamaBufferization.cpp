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
/// The kernel ops: every operand bufferized, the same op made on the
/// buffers with no result.
template <typename KernelOp>
struct KernelOpBufferization
    : DstBufferizableOpInterfaceExternalModel<KernelOpBufferization<KernelOp>,
                                              KernelOp> {
  // The init is only written (every element): a fresh buffer needs no copy
  // of what the init held.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    OperationState rebuilt(op->getLoc(), op->getName(), buffers, TypeRange{},
                           op->getAttrs());
    rewriter.create(rebuilt);
    SmallVector<Value> results;
    for (OpOperand &init :
         cast<DestinationStyleOpInterface>(op).getDpsInitsMutable())
      results.push_back(buffers[init.getOperandNumber()]);
    replaceOpWithBufferizedValues(rewriter, op, results);
    return success();
  }
};
} // namespace

void mlir::llama::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, LlamaDialect *) {
    llama::FlashAttentionOp::attachInterface<
        KernelOpBufferization<llama::FlashAttentionOp>>(*ctx);
    llama::TopKRowsOp::attachInterface<
        KernelOpBufferization<llama::TopKRowsOp>>(*ctx);
    llama::SampleRowsOp::attachInterface<
        KernelOpBufferization<llama::SampleRowsOp>>(*ctx);
  });
}
