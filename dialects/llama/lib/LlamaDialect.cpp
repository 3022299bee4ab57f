//===- LlamaDialect.cpp - the llama dialect ---------------------*- C++ -*-===//
//
// Registers the ops and attributes, and verifies the attributes' values.
//
//===----------------------------------------------------------------------===//
#include "llama/LlamaDialect.h"
#include "llama/LlamaOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::llama;

#include "llama/LlamaOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "llama/LlamaAttrs.cpp.inc"

void LlamaDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "llama/LlamaOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "llama/LlamaAttrs.cpp.inc"
      >();
}

LogicalResult
RopeLlama3ScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              APFloat factorAP, APFloat lowAP,
                              APFloat highAP, int64_t originalMaxPosition) {
  double factor = factorAP.convertToDouble();
  double lowFreqFactor = lowAP.convertToDouble();
  double highFreqFactor = highAP.convertToDouble();
  if (!(factor >= 1.0))
    return emitError() << "rope_llama3 factor must be >= 1, got " << factor;
  if (!(lowFreqFactor > 0.0) || !(highFreqFactor > lowFreqFactor))
    return emitError() << "rope_llama3 needs 0 < low_freq_factor < "
                          "high_freq_factor, got "
                       << lowFreqFactor << " and " << highFreqFactor;
  if (originalMaxPosition <= 0)
    return emitError() << "rope_llama3 original_max_position must be > 0, got "
                       << originalMaxPosition;
  return success();
}
