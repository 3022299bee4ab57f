//===- Pipelines.cpp - named pass pipelines ---------------------*- C++ -*-===//
#include "llamac/passes/Pipelines.h"
#include "llamac/passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// llama -> linalg on tensors.
void addModelLowering(OpPassManager &pm) {
  pm.addPass(llamac::createLlamaToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// Tensors -> buffers: the KV cache in place, logits into an out-param,
/// temporaries freed where their ownership ends.
void addBufferization(OpPassManager &pm) {
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  // The entry points become schedules of calls to shared kernels.
  pm.addPass(llamac::createLlamaOutlineKernels());
}

/// Buffers -> loops -> the LLVM dialect; the entry points then get the
/// runtime's bare-pointer C ABI.
void addLLVMLowering(OpPassManager &pm) {
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(llamac::createLlamaExportEntryPoints());
  pm.addPass(createCanonicalizerPass());
}
} // namespace

void llamac::buildHostPlanningPipeline(OpPassManager &pm,
                                       const HostPipelineOptions &options) {
  LlamaPlanWeightsOptions plan;
  plan.alignment = options.weightAlignment;
  pm.addPass(createLlamaPlanWeights(plan));
}

void llamac::buildHostLoweringPipeline(OpPassManager &pm) {
  addModelLowering(pm);
  addBufferization(pm);
  addLLVMLowering(pm);
}

void llamac::buildHostPipeline(OpPassManager &pm,
                               const HostPipelineOptions &options) {
  buildHostPlanningPipeline(pm, options);
  buildHostLoweringPipeline(pm);
}

void llamac::registerPipelines() {
  PassPipelineRegistration<>(
      "llama-to-host",
      "Lower the llama dialect to the LLVM dialect for the host CPU (the "
      "pipeline of llamac compile --target host)",
      [](OpPassManager &pm) { buildHostPipeline(pm); });
}
