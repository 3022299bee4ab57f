//===- PlanWeights.cpp - lay out the packed weights blob --------*- C++ -*-===//
//
// Params are placed in declaration order (the importer declares them in
// forward order, so a layer's weights are contiguous and read front to back).
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "llama/LlamaOps.h"

#include "llvm/Support/MathExtras.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAPLANWEIGHTS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {
struct PlanWeightsPass
    : llamac::impl::LlamaPlanWeightsBase<PlanWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (alignment <= 0 || !llvm::isPowerOf2_64(alignment)) {
      module.emitError() << "llama-plan-weights: alignment must be a power "
                            "of two, got "
                         << static_cast<int64_t>(alignment);
      return signalPassFailure();
    }
    Builder builder(module.getContext());
    uint64_t cursor = 0;
    for (auto param : module.getOps<llama::ParamOp>()) {
      RankedTensorType type = param.getTensorType();
      uint64_t bytes = type.getNumElements() *
                       llvm::divideCeil(type.getElementTypeBitWidth(), 8);
      cursor = llvm::alignTo(cursor, alignment);
      param.setOffsetAttr(builder.getI64IntegerAttr(cursor));
      cursor += bytes;
    }
    module->setAttr("llama.weights_bytes",
                    builder.getI64IntegerAttr(cursor));
  }
};
} // namespace
