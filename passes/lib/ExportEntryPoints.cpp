//===- ExportEntryPoints.cpp - the runtime's bare-pointer ABI ---*- C++ -*-===//
//
// The expanded descriptor of memref<d0 x ... x dn-1> is
//   (allocated ptr, aligned ptr, offset i64, sizes i64 x n, strides i64 x n);
// for the entry points' static, row-major buffers every field but the
// pointer is a constant. The kernels outlined earlier become internal and
// no_inline here, where their LLVM functions exist.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAEXPORTENTRYPOINTS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {
LogicalResult exportEntryPoint(LLVM::LLVMFuncOp impl, ArrayAttr memrefs) {
  MLIRContext *context = impl.getContext();
  auto ptr = LLVM::LLVMPointerType::get(context);
  auto i64 = IntegerType::get(context, 64);
  std::string name = impl.getSymName().str();
  impl.setSymName(name + "_impl");
  impl.setLinkage(LLVM::Linkage::Internal);
  impl->removeAttr("llama.entry_memrefs");

  OpBuilder b(impl);
  SmallVector<Type> argTypes(memrefs.size(), ptr);
  auto wrapper = LLVM::LLVMFuncOp::create(
      b, impl.getLoc(), name,
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), argTypes));
  Block *entry = wrapper.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  llvm::DenseMap<int64_t, Value> constants; // one op per distinct value
  auto constant = [&](int64_t v) -> Value {
    Value &c = constants[v];
    if (!c)
      c = LLVM::ConstantOp::create(b, impl.getLoc(), i64,
                                   b.getI64IntegerAttr(v));
    return c;
  };
  SmallVector<Value> operands;
  for (auto [index, attr] : llvm::enumerate(memrefs)) {
    auto type = dyn_cast<MemRefType>(cast<TypeAttr>(attr).getValue());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity())
      return impl.emitError() << "entry point argument #" << index
                              << " must be a static row-major memref, got "
                              << cast<TypeAttr>(attr).getValue();
    Value p = entry->getArgument(index);
    operands.append({p, p, constant(0)});
    for (int64_t size : type.getShape())
      operands.push_back(constant(size));
    int64_t stride = 1;
    SmallVector<Value> strides;
    for (int64_t size : llvm::reverse(type.getShape())) {
      strides.push_back(constant(stride));
      stride *= size;
    }
    operands.append(strides.rbegin(), strides.rend());
  }
  if (operands.size() != impl.getNumArguments())
    return impl.emitError() << "entry point takes " << impl.getNumArguments()
                            << " values, but its memrefs expand to "
                            << operands.size();
  LLVM::CallOp::create(b, impl.getLoc(), impl, operands);
  LLVM::ReturnOp::create(b, impl.getLoc(), ValueRange{});
  return success();
}

struct ExportEntryPointsPass
    : llamac::impl::LlamaExportEntryPointsBase<ExportEntryPointsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<LLVM::LLVMFuncOp, ArrayAttr>> entries;
    for (auto func : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      if (auto memrefs = func->getAttrOfType<ArrayAttr>("llama.entry_memrefs"))
        entries.push_back({func, memrefs});
      // Kernels are called by the entry points only, and stay out of line
      // so that every layer shares one copy.
      if (func->removeAttr("llama.kernel")) {
        func.setLinkage(LLVM::Linkage::Internal);
        func.setNoInline(true);
      }
    }
    for (auto [func, memrefs] : entries)
      if (failed(exportEntryPoint(func, memrefs)))
        return signalPassFailure();
  }
};
} // namespace
