//===- Importer.h - checkpoint -> llama dialect -----------------*- C++ -*-===//
#ifndef LLAMAC_FRONTEND_IMPORTER_H
#define LLAMAC_FRONTEND_IMPORTER_H

#include "llamac/frontend/Checkpoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llamac {

struct ImportOptions {
  int64_t batch = 1;   ///< Sequences processed together.
  int64_t seqLen = 1;  ///< Tokens per sequence per call of @forward.
  int64_t ctxSize = 0; ///< KV-cache length; 0 = min(max_position, 4096).
};

/// The context length the options ask for, after applying the default, or an
/// error naming the flag when it is out of range.
llvm::Expected<int64_t> resolveContextSize(const LlamaConfig &config,
                                           const ImportOptions &options);

/// Builds a module with one llama.param per checkpoint tensor and
/// `func.func @forward(tokens, positions, cache) -> (logits, cache)`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &context, const Checkpoint &checkpoint,
                 const ImportOptions &options);

} // namespace llamac

#endif // LLAMAC_FRONTEND_IMPORTER_H
