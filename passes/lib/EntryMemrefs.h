//===- EntryMemrefs.h - the entry points' memref types, recorded -*- C++ -*-===//
//
// llama-export-entry-points, after func-to-llvm, gives each entry point a
// bare-pointer wrapper; it needs the memref types the LLVM signature no
// longer shows. The pass that last sees them (llama-outline-kernels on the
// host, llama-map-to-gpu for CUDA) records them as `llama.entry_memrefs`.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_ENTRYMEMREFS_H
#define LLAMAC_PASSES_ENTRYMEMREFS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace llamac {

inline void recordEntryMemrefs(mlir::func::FuncOp func) {
  llvm::SmallVector<mlir::Attribute> memrefs;
  for (mlir::Type type : func.getArgumentTypes())
    memrefs.push_back(mlir::TypeAttr::get(type));
  func->setAttr("llama.entry_memrefs",
                mlir::ArrayAttr::get(func.getContext(), memrefs));
}

inline void recordEntryMemrefs(mlir::ModuleOp module) {
  for (auto func : module.getOps<mlir::func::FuncOp>())
    if (!func.isExternal() && func.isPublic())
      recordEntryMemrefs(func);
}

} // namespace llamac

#endif // LLAMAC_PASSES_ENTRYMEMREFS_H
