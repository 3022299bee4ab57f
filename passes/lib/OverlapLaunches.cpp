//===- OverlapLaunches.cpp - programmatic dependent launch ------*- C++ -*-===//
//
// A decode step is hundreds of kernels, most of a few microseconds, each
// launched after the one before has ended: the launch and the placement of
// its blocks are time the GPU idles. On sm_90 a kernel may let the next
// one launch early (griddepcontrol.launch_dependents) as long as the next
// one waits for it before touching memory (griddepcontrol.wait). Both at
// the top of every kernel keep the stream's order of memory effects; only
// L2 prefetches of memory no kernel writes (a GEMV's first weights, which
// llama-map-to-gpu puts first) may come before the wait.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "L2Prefetch.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

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

/// Whether `op` only computes values or prefetches: nothing it does can
/// see or change memory another kernel writes.
bool isPureOrPrefetch(Operation &op) {
  if (llamac::isL2Prefetch(&op))
    return true;
  if (op.getNumRegions() == 0)
    return isPure(&op);
  if (!isa<scf::IfOp>(op))
    return false;
  for (Region &region : op.getRegions())
    for (Operation &inner : region.getOps())
      if (!isa<scf::YieldOp>(inner) && !isPureOrPrefetch(inner))
        return false;
  return true;
}

/// Where the wait goes: after the last prefetch of the kernel's leading
/// pure-or-prefetch ops, else at the top.
Operation *lastLeadingPrefetch(Block &entry) {
  Operation *last = nullptr;
  for (Operation &op : entry) {
    if (!isPureOrPrefetch(op))
      break;
    bool prefetches =
        op.walk([](Operation *inner) {
            return llamac::isL2Prefetch(inner) ? WalkResult::interrupt()
                                               : WalkResult::advance();
          }).wasInterrupted();
    if (prefetches)
      last = &op;
  }
  return last;
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
        Block &entry = kernel.getBody().front();
        Operation *prefetch = lastLeadingPrefetch(entry);
        OpBuilder b = OpBuilder::atBlockBegin(&entry);
        NVVM::GriddepcontrolOp::create(
            b, kernel.getLoc(), NVVM::GridDepActionKind::launch_dependents);
        if (prefetch)
          b.setInsertionPointAfter(prefetch);
        NVVM::GriddepcontrolOp::create(b, kernel.getLoc(),
                                       NVVM::GridDepActionKind::wait);
      }
    }
  }
};

} // namespace
