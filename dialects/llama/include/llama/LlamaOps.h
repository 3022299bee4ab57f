//===- LlamaOps.h - llama dialect operations --------------------*- C++ -*-===//
#ifndef LLAMA_LLAMAOPS_H
#define LLAMA_LLAMAOPS_H

#include "llama/LlamaDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "llama/LlamaOps.h.inc"

#endif // LLAMA_LLAMAOPS_H
