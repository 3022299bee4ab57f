//===- MergeKernelModules.cpp - one gpu.module for all kernels --*- C++ -*-===//
//
// gpu-kernel-outlining puts each kernel in a gpu.module of its own, and each
// would become a PTX module of its own: as many JIT compilations and
// cuModuleLoad calls at start-up, and as many files to check with ptxas.
// This moves every kernel into the first module, named after its old module
// (kernel names repeat across modules), together with the globals they
// read, and points each gpu.launch_func at its kernel's new home.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAMERGEKERNELMODULES
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// Shared-memory buffers start 16-byte aligned (cp.async's 16-byte copies),
/// those of 1 KiB or more 1,024-byte aligned (the wgmma tiles' swizzle
/// pattern repeats every 512 bytes, from an aligned base); left alone, the
/// lowering aligns a buffer only to its element.
void alignWorkgroupBuffers(gpu::GPUFuncOp kernel) {
  for (auto [index, buffer] :
       llvm::enumerate(kernel.getWorkgroupAttributions())) {
    auto type = cast<MemRefType>(buffer.getType());
    int64_t bytes = type.getNumElements() * type.getElementTypeBitWidth() / 8;
    kernel.setWorkgroupAttributionAttr(
        index, LLVM::LLVMDialect::getAlignAttrName(),
        IntegerAttr::get(IntegerType::get(kernel.getContext(), 64),
                         bytes >= 1024 ? 1024 : 16));
  }
}

struct LlamaMergeKernelModules
    : public llamac::impl::LlamaMergeKernelModulesBase<
          LlamaMergeKernelModules> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> sources(module.getOps<gpu::GPUModuleOp>());
    if (sources.empty())
      return;
    MLIRContext *context = module.getContext();
    // (old module, old kernel) -> the kernel's name in the merged module:
    // its old module's, unique.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp source : sources)
      for (auto kernel :
           llvm::make_early_inc_range(source.getOps<gpu::GPUFuncOp>())) {
        StringAttr name = StringAttr::get(context, source.getName());
        renamed[{source.getNameAttr(), kernel.getNameAttr()}] = name;
        kernel.setName(name);
        alignWorkgroupBuffers(kernel);
      }
    gpu::GPUModuleOp target = sources.front();
    Block *body = target.getBody();
    for (gpu::GPUModuleOp source : llvm::drop_begin(sources)) {
      // gpu.module has no terminator: every op of its body moves.
      for (Operation &op : llvm::make_early_inc_range(*source.getBody())) {
        // The globals kernels read were cloned into each module that reads
        // them, under the same name: one copy is enough.
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (symbol && target.lookupSymbol(symbol.getNameAttr())) {
          op.erase();
          continue;
        }
        op.moveBefore(body, body->end());
      }
      source->erase();
    }
    target.setName("llamac_kernels");
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find(
          {launch.getKernelModuleName(), launch.getKernelName()});
      if (it != renamed.end())
        launch.setKernelAttr(SymbolRefAttr::get(
            target.getNameAttr(), {FlatSymbolRefAttr::get(it->second)}));
    });
  }
};

} // namespace
