//===- F32Runs.h - runs of consecutive f32 as one vector access -*- C++ -*-===//
//
// Kernels that read or write a row's consecutive floats 16 bytes at a time
// (the attention's key and value rows, the GEMMs' output tiles): one
// vector load or store, aligned as the memref's layout guarantees.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_F32RUNS_H
#define LLAMAC_PASSES_F32RUNS_H

#include "KernelEmitter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/STLExtras.h"

namespace llamac {

/// The byte alignment of `n` consecutive f32 of `type` starting at a
/// multiple of `n` in the innermost dimension: 16 (or 8) where the layout
/// keeps every such run that aligned, else 4.
inline unsigned runAlignment(mlir::MemRefType type, int64_t n) {
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  int64_t run = std::min<int64_t>(n, 4);
  if (!llvm::isPowerOf2_64(n) ||
      mlir::failed(type.getStridesAndOffset(strides, offset)) ||
      strides.back() != 1 || mlir::ShapedType::isDynamic(offset) ||
      offset % run != 0 ||
      !llvm::all_of(llvm::ArrayRef(strides).drop_back(), [&](int64_t s) {
        return !mlir::ShapedType::isDynamic(s) && s % run == 0;
      }))
    return 4;
  return 4 * run;
}

/// `n` consecutive f32 of `buffer` from `indices` (the innermost a multiple
/// of `n`), as one vector.
inline mlir::Value loadRun(Emitter &e, mlir::Value buffer,
                           mlir::ValueRange indices, int64_t n) {
  auto type = mlir::cast<mlir::MemRefType>(buffer.getType());
  return mlir::vector::LoadOp::create(
      e.b, e.loc, mlir::VectorType::get({n}, e.b.getF32Type()), buffer, indices,
      /*nontemporal=*/false, llvm::Align(runAlignment(type, n)));
}

/// Stores the vector `run` likewise.
inline void storeRun(Emitter &e, mlir::Value run, mlir::Value buffer,
                     mlir::ValueRange indices) {
  auto type = mlir::cast<mlir::MemRefType>(buffer.getType());
  int64_t n = mlir::cast<mlir::VectorType>(run.getType()).getNumElements();
  mlir::vector::StoreOp::create(e.b, e.loc, run, buffer, indices,
                                /*nontemporal=*/false,
                                llvm::Align(runAlignment(type, n)));
}

} // namespace llamac

#endif // LLAMAC_PASSES_F32RUNS_H
