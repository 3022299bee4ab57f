//===- L2Prefetch.h - prefetch.global.L2 as inline PTX ----------*- C++ -*-===//
//
// A kernel asks L2 for memory no kernel writes (weights) before it waits
// for the kernel before it. LLVM 22's NVPTX selects the prefetch intrinsic
// only from PTX 8.0 on; the instruction itself is in every PTX ISA these
// targets use, so it is written as inline PTX. llama-map-to-gpu emits it,
// llama-overlap-launches recognizes it.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_L2PREFETCH_H
#define LLAMAC_PASSES_L2PREFETCH_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace llamac {

inline constexpr llvm::StringLiteral kL2PrefetchPtx = "prefetch.global.L2 [$0];";

/// Prefetches the 128-byte line holding global address `address` (i64).
inline void emitL2Prefetch(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value address) {
  mlir::LLVM::InlineAsmOp::create(
      b, loc, mlir::TypeRange{}, mlir::ValueRange{address}, kL2PrefetchPtx,
      "l", /*has_side_effects=*/true, /*is_align_stack=*/false,
      mlir::LLVM::tailcallkind::TailCallKind::None,
      /*asm_dialect=*/mlir::LLVM::AsmDialectAttr(),
      /*operand_attrs=*/mlir::ArrayAttr());
}

inline bool isL2Prefetch(mlir::Operation *op) {
  auto inlineAsm = llvm::dyn_cast<mlir::LLVM::InlineAsmOp>(op);
  return inlineAsm && inlineAsm.getAsmString() == kL2PrefetchPtx;
}

} // namespace llamac

#endif // LLAMAC_PASSES_L2PREFETCH_H
