//===- OverlapLaunches.cpp - programmatic dependent launch ------*- C++ -*-===//
//
// A decode step is hundreds of kernels, most of a few microseconds, each
// launched after the one before has ended: the launch and the placement of
// its blocks are time the GPU idles. On sm_90 a kernel may let the next
// one launch early (griddepcontrol.launch_dependents) as long as the next
// one waits for it before touching memory (griddepcontrol.wait). Both go
// at the top of every kernel, which keeps the stream's order of memory
// effects; a kernel that reads the weights first (llama-map-to-gpu's
// GEMVs) waits at its llama.await_earlier_kernels instead, after those
// loads, since no kernel writes the weights.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAOVERLAPLAUNCHES
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// Whether every target of `module` is an NVVM target of sm_90 or newer.
bool targetsHopperOrNewer(gpu::GPUModuleOp module) {
  ArrayAttr targets = module.getTargetsAttr();
  if (!targets || targets.empty())
    return false;
  return llvm::all_of(targets, [](Attribute attr) {
    auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(attr);
    unsigned arch = 0;
    return nvvm && nvvm.getChip().starts_with("sm_") &&
           !nvvm.getChip().drop_front(3).take_while(llvm::isDigit).getAsInteger(
               10, arch) &&
           arch >= 90;
  });
}

/// The llama.await_earlier_kernels at the top level of `kernel`'s body, if
/// there is exactly one: the kernel reads only the weights before it.
/// (Merged launches hold their parts' markers in branches: those wait at
/// the top.)
llama::AwaitEarlierKernelsOp topLevelAwait(gpu::GPUFuncOp kernel) {
  auto markers =
      kernel.getBody().front().getOps<llama::AwaitEarlierKernelsOp>();
  if (std::distance(markers.begin(), markers.end()) != 1)
    return {};
  return *markers.begin();
}

struct LlamaOverlapLaunches
    : public llamac::impl::LlamaOverlapLaunchesBase<LlamaOverlapLaunches> {
  void runOnOperation() override {
    for (auto module : getOperation().getOps<gpu::GPUModuleOp>()) {
      bool overlap = targetsHopperOrNewer(module);
      for (auto kernel : module.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel() || kernel.getBody().empty())
          continue;
        llama::AwaitEarlierKernelsOp await = topLevelAwait(kernel);
        if (overlap) {
          OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
          NVVM::GriddepcontrolOp::create(
              b, kernel.getLoc(), NVVM::GridDepActionKind::launch_dependents);
          if (await)
            b.setInsertionPoint(await);
          NVVM::GriddepcontrolOp::create(b, kernel.getLoc(),
                                         NVVM::GridDepActionKind::wait);
        }
        // Without the overlap, launches wait for the kernel before anyway.
        // The markers' register hint stays, as the kernel's.
        kernel.walk([&](llama::AwaitEarlierKernelsOp op) {
          if (std::optional<uint32_t> blocks = op.getMinBlocksPerSm())
            kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                            OpBuilder(op).getI32IntegerAttr(*blocks));
          op->erase();
        });
      }
    }
  }
};

} // namespace
