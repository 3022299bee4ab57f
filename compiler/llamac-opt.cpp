//===- llamac-opt.cpp - the project's mlir-opt ------------------*- C++ -*-===//
//
// Parses, verifies and prints llama-dialect IR and runs the project's passes
// by name, with every flag of MlirOptMain (-mlir-print-ir-after-all, ...).
//
//===----------------------------------------------------------------------===//
#include "llama/LlamaDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::llama::LlamaDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "llamac optimizer driver\n", registry));
}
