//===- llamac-opt.cpp - the project's mlir-opt ------------------*- C++ -*-===//
//
// Parses, verifies and prints llama-dialect IR and runs the project's passes
// by name, with every flag of MlirOptMain (-mlir-print-ir-after-all, ...).
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"
#include "llamac/passes/Pipelines.h"
#include "llamac/passes/Registration.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  llamac::registerLlamacPasses();
  llamac::registerPipelines();
  // The upstream passes the pipelines use, so that each step can be run
  // (and tested) on its own.
  mlir::registerTransformsPasses();
  mlir::registerConversionPasses();
  mlir::bufferization::registerBufferizationPasses();
  mlir::bufferization::registerBufferizationPipelines();
  mlir::registerLinalgPasses();
  mlir::registerGPUPasses();
  mlir::memref::registerMemRefPasses();

  mlir::DialectRegistry registry;
  llamac::registerLlamacDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "llamac optimizer driver\n", registry));
}
