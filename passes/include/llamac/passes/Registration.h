//===- Registration.h - dialects and interfaces llamac uses -----*- C++ -*-===//
//
// One list, shared by llamac and llamac-opt, of the dialects the pipelines
// produce and the external interface models they rely on (bufferization of
// arith/linalg/tensor/scf, LLVM IR translation).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_REGISTRATION_H
#define LLAMAC_PASSES_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace llamac {

void registerLlamacDialects(mlir::DialectRegistry &registry);

} // namespace llamac

#endif // LLAMAC_PASSES_REGISTRATION_H
