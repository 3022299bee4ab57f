//===- LlamaDialect.h - the llama dialect -----------------------*- C++ -*-===//
#ifndef LLAMA_LLAMADIALECT_H
#define LLAMA_LLAMADIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpImplementation.h"

#include "llama/LlamaOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "llama/LlamaAttrs.h.inc"

#endif // LLAMA_LLAMADIALECT_H
