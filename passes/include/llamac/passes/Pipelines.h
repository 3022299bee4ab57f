//===- Pipelines.h - named pass pipelines -----------------------*- C++ -*-===//
//
// The pipelines that `llamac compile` runs, also registered by name so that
// `llamac-opt --llama-to-host` runs exactly the same passes.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_PIPELINES_H
#define LLAMAC_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace llamac {

struct HostPipelineOptions {
  int64_t weightAlignment = 64;
};

/// llama dialect -> LLVM dialect for the host CPU: the planning phase then
/// the lowering phase below.
void buildHostPipeline(mlir::OpPassManager &pm,
                       const HostPipelineOptions &options = {});

/// Phase 1, decisions recorded in the IR: the weights layout. The weight
/// packer reads the result before phase 2 drops the params.
void buildHostPlanningPipeline(mlir::OpPassManager &pm,
                               const HostPipelineOptions &options = {});

/// Phase 2: llama -> linalg on tensors, bufferization, loops, LLVM.
void buildHostLoweringPipeline(mlir::OpPassManager &pm);

/// Registers the pipelines with the global registry (for llamac-opt).
void registerPipelines();

} // namespace llamac

#endif // LLAMAC_PASSES_PIPELINES_H
