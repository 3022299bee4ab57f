//===- LinalgBodies.cpp - a linalg op's body at loop indices --------------===//
#include "LinalgBodies.h"

#include "LinalgIndexing.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace llamac {

void mapInputs(OpBuilder &b, Location loc, linalg::LinalgOp op,
               ArrayRef<Value> ivs, IRMapping &mapping) {
  Block *body = op.getBlock();
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = body->getArgument(input->getOperandNumber());
    if (arg.use_empty() || mapping.contains(arg))
      continue;
    Value value = input->get();
    mapping.map(arg,
                isa<MemRefType>(value.getType())
                    ? memref::LoadOp::create(
                          b, loc, value, operandIndices(b, loc, op, input, ivs))
                          .getResult()
                    : value);
  }
  body->walk([&](linalg::IndexOp index) {
    mapping.map(index.getResult(), ivs[index.getDim()]);
  });
}

void emitBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
              ArrayRef<Value> ivs, IRMapping mapping) {
  Block *body = op.getBlock();
  mapInputs(b, loc, op, ivs, mapping);
  for (OpOperand &init : op.getDpsInitsMutable()) {
    BlockArgument arg = body->getArgument(init.getOperandNumber());
    if (!arg.use_empty())
      mapping.map(
          arg, memref::LoadOp::create(b, loc, init.get(),
                                      operandIndices(b, loc, op, &init, ivs)));
  }
  for (Operation &inner : body->without_terminator())
    if (!isa<linalg::IndexOp>(inner))
      b.clone(inner, mapping);
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (auto [value, init] :
       llvm::zip(yield.getValues(), op.getDpsInitsMutable()))
    memref::StoreOp::create(b, loc, mapping.lookupOrDefault(value), init.get(),
                            operandIndices(b, loc, op, &init, ivs));
}

} // namespace llamac
