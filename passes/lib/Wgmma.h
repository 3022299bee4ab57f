//===- Wgmma.h - sm_90a warpgroup MMAs from shared memory -------*- C++ -*-===//
//
// TensorCoreLinear.cpp's sm_90 form issues its tiles' products through
// these: a warpgroup (4 warps) multiplies a 64 x k16 tile of A by a
// k16 x N tile of B, both read by the tensor cores from shared memory
// through 64-bit matrix descriptors, into N / 2 f32 accumulators a thread.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_WGMMA_H
#define LLAMAC_PASSES_WGMMA_H

#include "KernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace llamac {

/// The descriptor of a K-major operand tile whose rows of `rowBytes` (128:
/// 64 bf16, or 64: 32 bf16) are stored with the swizzle of that width, at
/// shared address `address` (i64): 8-row groups of 8 x rowBytes, 16-byte
/// chunk c of row r at chunk position c ^ (r % 8) (128 bytes) or
/// c ^ ((r / 2) % 4) (64 bytes), what spreads a core matrix's 8 rows over
/// all banks. PTX ISA, "Matrix Descriptor Format": the start address in
/// units of 16 bytes at bit 0, the stride between 8-row groups at bit 32,
/// the leading offset (unused with a swizzle whose width holds a k-step) at
/// bit 16, the swizzle mode (1: 128 bytes, 2: 64 bytes) at bits 62-63. The
/// tile's base must be aligned to the pattern's 8 rows (base offset 0); the
/// start of k-step i is `address` + 32 i, as if unswizzled: the hardware
/// swizzles the address bits itself.
inline mlir::Value wgmmaDescriptor(Emitter &e, mlir::Value address,
                                   int64_t rowBytes) {
  mlir::Value start = mlir::arith::ShRUIOp::create(
      e.b, e.loc,
      mlir::arith::AndIOp::create(e.b, e.loc, address, e.i64(0x3FFFF)),
      e.i64(4));
  uint64_t mode = rowBytes == 128 ? 1 : 2;
  uint64_t fields = (uint64_t{1} << 16) |
                    (uint64_t(8 * rowBytes) >> 4 << 32) | (mode << 62);
  return mlir::arith::OrIOp::create(e.b, e.loc, start,
                                    e.i64(static_cast<int64_t>(fields)));
}

/// acc + a b for a 64 x n x 16 tile, A (64 x 16) and B (n x 16) both
/// k-contiguous bf16 in shared memory, `acc` the warpgroup's f32
/// accumulators (an LLVM struct of n / 2 floats a thread). Asynchronous:
/// the result is ready after the group that commits it is waited for.
inline mlir::Value wgmmaBf16(Emitter &e, int64_t n, mlir::Value descA,
                             mlir::Value descB, mlir::Value acc) {
  using namespace mlir::NVVM;
  auto *ctx = e.b.getContext();
  return WgmmaMmaAsyncOp::create(
      e.b, e.loc, acc.getType(), acc, descA, descB,
      MMAShapeAttr::get(ctx, 64, n, 16), WGMMATypes::bf16, WGMMATypes::bf16,
      WGMMATypes::f32, WGMMAScaleOut::one, WGMMAScaleIn::one, WGMMAScaleIn::one,
      MMALayout::row, MMALayout::col,
      /*satfinite=*/nullptr);
}

} // namespace llamac

#endif // LLAMAC_PASSES_WGMMA_H
