//===- WeightPacker.h - checkpoint tensors -> the weights blob --*- C++ -*-===//
//
// Streams each tensor from the mmapped checkpoint into the blob at the
// offset llama-plan-weights gave it (a weight with a column_scale scaled a
// row at a time); memory use stays at one page of zeros and one row
// however large the model.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_COMPILER_WEIGHTPACKER_H
#define LLAMAC_COMPILER_WEIGHTPACKER_H

#include "llamac/frontend/Checkpoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace llamac {

struct PlannedWeight {
  std::string name; ///< The checkpoint tensor.
  uint64_t offset;  ///< In the blob.
  uint64_t bytes;
  /// A [in] tensor that multiplies each row of this [out, in] one (the
  /// param's column_scale, set by llama-fold-norm-gains), or empty.
  std::string columnScale;
};

struct WeightLayout {
  std::vector<PlannedWeight> weights; ///< In offset order.
  uint64_t totalBytes = 0;
};

/// Reads the layout off a module that llama-plan-weights has run on.
llvm::Expected<WeightLayout> readWeightLayout(mlir::ModuleOp module);

/// Writes the blob, showing a progress bar when stderr is a terminal.
llvm::Error packWeights(llvm::raw_ostream &out, const Checkpoint &checkpoint,
                        const WeightLayout &layout);

} // namespace llamac

#endif // LLAMAC_COMPILER_WEIGHTPACKER_H
