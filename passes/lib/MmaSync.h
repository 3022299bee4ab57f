//===- MmaSync.h - one nvvm.mma.sync tile -----------------------*- C++ -*-===//
//
// The tensor-core kernels (TensorCoreLinear.cpp: bf16 m16n8k16;
// FlashAttentionTensorCore.cpp: tf32 m16n8k8) issue their mmas through this.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_MMASYNC_H
#define LLAMAC_PASSES_MMASYNC_H

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace llamac {

/// acc + a b for one 16 x 8 x k tile, A row-major, B column-major, f32
/// accumulators: k = 16 for bf16 inputs, 8 for tf32. `a` and `b` are the
/// thread's fragment registers (i32: bf16 pairs or tf32), `acc` and the
/// result its 4 accumulators.
inline llvm::SmallVector<mlir::Value>
mmaSync(Emitter &e, mlir::NVVM::MMATypes type, llvm::ArrayRef<mlir::Value> a,
        llvm::ArrayRef<mlir::Value> b, llvm::ArrayRef<mlir::Value> acc) {
  mlir::Type f32 = e.b.getF32Type();
  auto resultType = mlir::LLVM::LLVMStructType::getLiteral(
      e.b.getContext(), llvm::SmallVector<mlir::Type>(4, f32));
  int64_t k = type == mlir::NVVM::MMATypes::tf32 ? 8 : 16;
  auto op = mlir::NVVM::MmaOp::create(
      e.b, e.loc, resultType, a, b, acc, llvm::ArrayRef<int64_t>{16, 8, k},
      std::nullopt, std::nullopt,
      std::array<mlir::NVVM::MMATypes, 2>{type, type},
      std::array<mlir::NVVM::MMALayout, 2>{mlir::NVVM::MMALayout::row,
                                           mlir::NVVM::MMALayout::col});
  llvm::SmallVector<mlir::Value> out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(mlir::LLVM::ExtractValueOp::create(e.b, e.loc, op, i));
  return out;
}

} // namespace llamac

#endif // LLAMAC_PASSES_MMASYNC_H
