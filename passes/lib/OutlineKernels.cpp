//===- OutlineKernels.cpp - one function per distinct kernel ----*- C++ -*-===//
//
// 1. Collect the linalg ops on buffers of every function with a body.
// 2. For each, build a kernel function from a clone of the op (and of the
//    constants its body uses); its operands and the other values its body
//    uses from above become the arguments.
// 3. Key the kernel by its printed form (types, maps, body); reuse an equal
//    kernel if one exists, else keep the new one.
// 4. Replace the op by a call.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "EntryMemrefs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAOUTLINEKERNELS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {
/// The kernel's identity: its signature and body in generic form, without
/// names or locations, so that equal computations print equal.
std::string kernelKey(func::FuncOp kernel) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << kernel.getFunctionType();
  for (Operation &op : kernel.getBody().front())
    op.print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  return key;
}

struct OutlineKernelsPass
    : llamac::impl::LlamaOutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = module.getContext();
    SymbolTable symbols(module);
    llvm::StringMap<func::FuncOp> kernels;

    SmallVector<linalg::LinalgOp> ops;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      func.walk([&](linalg::LinalgOp op) {
        if (op.hasPureBufferSemantics())
          ops.push_back(op);
      });
    }
    llamac::recordEntryMemrefs(module);

    OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
    for (linalg::LinalgOp op : ops) {
      // Constants the body reads are cloned into the kernel, so that LLVM
      // sees them; other values from above become arguments.
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(op->getRegions(), captured);
      SmallVector<Operation *> constants;
      SmallVector<Value> args(op->getOperands());
      for (Value value : captured) {
        Operation *def = value.getDefiningOp();
        if (def && def->hasTrait<OpTrait::ConstantLike>())
          constants.push_back(def);
        else
          args.push_back(value);
      }

      auto type = FunctionType::get(context, ValueRange(args).getTypes(), {});
      auto kernel = func::FuncOp::create(moduleBuilder, op.getLoc(),
                                         "kernel", type);
      Block *entry = kernel.addEntryBlock();
      IRMapping mapping;
      mapping.map(args, entry->getArguments());
      OpBuilder body = OpBuilder::atBlockEnd(entry);
      for (Operation *constant : constants)
        body.clone(*constant, mapping);
      body.clone(*op.getOperation(), mapping);
      func::ReturnOp::create(body, op.getLoc());

      func::FuncOp &callee = kernels[kernelKey(kernel)];
      if (callee) {
        kernel.erase();
      } else {
        callee = kernel;
        kernel.setPrivate();
        // func-to-llvm keeps dialect attributes only; llama-export-entry-points
        // turns this one into internal linkage and no_inline.
        kernel->setAttr("llama.kernel", UnitAttr::get(context));
        std::string name =
            ("kernel_" + op->getName().stripDialect() + "_" +
             llvm::Twine(kernels.size() - 1))
                .str();
        kernel.setName(name);
        symbols.insert(kernel);
      }
      OpBuilder builder(op);
      func::CallOp::create(builder, op.getLoc(), callee, args);
      op->erase();
    }
  }
};
} // namespace
