//===- OverlapLaunches.cpp - programmatic dependent launch ------*- C++ -*-===//
//
// A decode step is hundreds of kernels, most of a few microseconds, each
// launched after the one before has ended: the launch and the placement of
// its blocks are time the GPU idles. On sm_90 a kernel may let the next
// one launch early (griddepcontrol.launch_dependents) as long as the next
// one waits for it before touching memory (griddepcontrol.wait). Both at
// the top of every kernel keep the stream's order of memory effects.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

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

struct LlamaOverlapLaunches
    : public llamac::impl::LlamaOverlapLaunchesBase<LlamaOverlapLaunches> {
  void runOnOperation() override {
    for (auto module : getOperation().getOps<gpu::GPUModuleOp>()) {
      if (!targetsHopperOrNewer(module))
        continue;
      for (auto kernel : module.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel() || kernel.getBody().empty())
          continue;
        OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
        NVVM::GriddepcontrolOp::create(
            b, kernel.getLoc(), NVVM::GridDepActionKind::launch_dependents);
        NVVM::GriddepcontrolOp::create(b, kernel.getLoc(),
                                       NVVM::GridDepActionKind::wait);
      }
    }
  }
};

} // namespace
