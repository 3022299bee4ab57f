//===- ObjectEmitter.h - LLVM dialect -> host object file -------*- C++ -*-===//
#ifndef LLAMAC_COMPILER_OBJECTEMITTER_H
#define LLAMAC_COMPILER_OBJECTEMITTER_H

#include "llamac/abi/ModelABI.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace llamac {

struct ObjectOptions {
  /// CPU to tune and select instructions for; "native" = this machine's.
  std::string cpu = "native";
  /// Where to write the optimized LLVM IR too (empty: nowhere).
  std::string llvmIRPath;
};

/// Translates `module` (LLVM dialect) to LLVM IR, adds the `llamac_model`
/// record, optimizes at -O3 for the host and writes a relocatable,
/// position-independent object file.
llvm::Error emitHostObject(mlir::ModuleOp module, const llamac_model_info &info,
                           llvm::StringRef path, const ObjectOptions &options);

} // namespace llamac

#endif // LLAMAC_COMPILER_OBJECTEMITTER_H
