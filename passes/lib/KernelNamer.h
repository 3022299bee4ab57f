//===- KernelNamer.h - names of the kernels llama-map-to-gpu makes -*- C++ -*-===//
#ifndef LLAMAC_PASSES_KERNELNAMER_H
#define LLAMAC_PASSES_KERNELNAMER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <string>

namespace llamac {

/// Kernel names that say where each kernel comes from, for profilers and IR
/// readers: the entry point, the model op's name (the importer's NameLoc,
/// e.g. model.layers.3.self_attn.q_proj) and the kernel's form, e.g.
/// decode_layers_3_self_attn_q_proj_dot; unique within the module.
class KernelNamer {
public:
  std::string name(mlir::Operation *op, llvm::StringRef form) {
    std::string base;
    if (auto func = op->getParentOfType<mlir::func::FuncOp>()) {
      llvm::StringRef entry = func.getSymName();
      entry.consume_front("llamac_");
      base = entry.str();
    }
    std::string where = "op";
    op->getLoc()->walk([&](mlir::Location loc) {
      if (auto named = llvm::dyn_cast<mlir::NameLoc>(loc)) {
        where = named.getName().str();
        return mlir::WalkResult::interrupt();
      }
      return mlir::WalkResult::advance();
    });
    llvm::StringRef trimmed = where;
    trimmed.consume_front("model.");
    base += (base.empty() ? "" : "_") + trimmed.str() + "_" + form.str();
    for (char &c : base)
      if (!llvm::isAlnum(c))
        c = '_';
    std::string unique = base;
    for (int n = 1; !used_.insert(unique).second; ++n)
      unique = base + "_" + std::to_string(n);
    return unique;
  }

private:
  llvm::StringSet<> used_;
};

} // namespace llamac

#endif // LLAMAC_PASSES_KERNELNAMER_H
