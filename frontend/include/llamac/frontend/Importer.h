//===- Importer.h - checkpoint -> llama dialect -----------------*- C++ -*-===//
#ifndef LLAMAC_FRONTEND_IMPORTER_H
#define LLAMAC_FRONTEND_IMPORTER_H

#include "llamac/frontend/Checkpoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llamac {

/// One forward function: its name and the tokens per sequence it takes.
struct EntryPoint {
  std::string name;
  int64_t seqLen;
  /// The final norm and the lm_head on each sequence's last real row only
  /// (`lengths[b] - 1`): logits [batch, 1, vocab] instead of one row a token.
  bool lastRowLogits = false;
};

struct ImportOptions {
  int64_t batch = 1;   ///< Sequences processed together.
  int64_t ctxSize = 0; ///< KV-cache length; 0 = min(max_position, 4096).
  /// llama.top_k's k: the (logit, id) pairs each row returns.
  int64_t samplingCandidates = 1;
  /// The functions to emit; all share the params and the cache layout.
  std::vector<EntryPoint> entryPoints = {{"forward", 1}};
};

/// The context length the options ask for, after applying the default, or an
/// error naming the flag when it is out of range.
llvm::Expected<int64_t> resolveContextSize(const LlamaConfig &config,
                                           const ImportOptions &options);

/// Builds a module with one llama.param per checkpoint tensor and, per entry
/// point, `func.func @name(tokens, positions, cache) -> (logits, cache)`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &context, const Checkpoint &checkpoint,
                 const ImportOptions &options);

} // namespace llamac

#endif // LLAMAC_FRONTEND_IMPORTER_H
