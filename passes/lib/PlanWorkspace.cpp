//===- PlanWorkspace.cpp - temporaries at planned offsets -------*- C++ -*-===//
//
// Bufferization frees every temporary at the end of its entry point, so all
// of a call's activations are live at once (the 8B's prefill: ~640 MiB on a
// GPU). Their real lifetimes are short and known at compile time: a
// straight-line schedule of kernels. Each static allocation is given an
// offset in one workspace buffer, reusing the bytes of temporaries that are
// dead by its first use (greedy by size, as TFLite's and XLA's heap
// simulators place tensors), and the runtime allocates that buffer once.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "EntryMemrefs.h"
#include "TmaLoads.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/Support/MathExtras.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAPLANWORKSPACE
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// A temporary the workspace can hold: a static allocation at the top of an
/// entry point, freed (if at all) there too.
struct Temporary {
  Operation *alloc;
  SmallVector<Operation *> deallocs;
  MemRefType type;
  uint64_t bytes = 0;
  int64_t first = 0, last = 0; // the top-level ops that use it, inclusive
  uint64_t offset = 0;
};

bool isDealloc(Operation *op) {
  return isa<memref::DeallocOp, gpu::DeallocOp>(op);
}

/// Whether `type` can be a view of an i8 buffer at an offset (memref.view's
/// rule): static, identity layout, the default memory space.
bool isViewable(MemRefType type) {
  return type.hasStaticShape() && type.getLayout().isIdentity() &&
         !type.getMemorySpace() && type.getElementType().isIntOrFloat();
}

/// The allocated value of a candidate op, or null.
Value allocated(Operation *op) {
  if (auto alloc = dyn_cast<memref::AllocOp>(op))
    return alloc.getDynamicSizes().empty() && alloc.getSymbolOperands().empty()
               ? alloc.getMemref()
               : Value();
  if (auto alloc = dyn_cast<gpu::AllocOp>(op))
    return alloc.getDynamicSizes().empty() &&
                   alloc.getSymbolOperands().empty() && !alloc.getHostShared()
               ? alloc.getMemref()
               : Value();
  return {};
}

/// Fills `t.first`, `t.last` and `t.deallocs` from the uses of `buffer` and
/// of the views made of it, anywhere below `body` (a use inside a kernel
/// counts where the kernel's launch is). False where the buffer is freed
/// other than by a top-level dealloc of the buffer itself.
bool findLifetime(Block &body, const DenseMap<Operation *, int64_t> &order,
                  Value buffer, Temporary &t) {
  t.first = std::numeric_limits<int64_t>::max();
  t.last = -1;
  SmallVector<Value> values{buffer};
  while (!values.empty()) {
    Value value = values.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isDealloc(user)) {
        if (value != buffer || user->getBlock() != &body)
          return false;
        t.deallocs.push_back(user);
        continue;
      }
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == value)
          llvm::append_range(values, user->getResults());
      // A tensor map holds the buffer's address: the kernel that takes the
      // map reads the buffer (else the planner would give the bytes to that
      // kernel's output, which the --tma GEMMs then overwrote their own
      // activations with, in grids of more than one wave).
      if (auto call = dyn_cast<func::CallOp>(user))
        if (call.getCallee() == llamac::kTensorMapFunction)
          llvm::append_range(values, call.getResults());
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top)
        return false;
      int64_t at = order.lookup(top);
      t.first = std::min(t.first, at);
      t.last = std::max(t.last, at);
    }
  }
  return true;
}

/// Greedy by size: the largest temporary first, each at the lowest aligned
/// offset that no temporary live at the same time occupies. Returns the
/// workspace's size.
uint64_t placeTemporaries(MutableArrayRef<Temporary> temporaries,
                          uint64_t alignment) {
  SmallVector<Temporary *> bySize;
  for (Temporary &t : temporaries)
    bySize.push_back(&t);
  // Equal sizes keep the schedule's order (pointers into `temporaries`).
  llvm::sort(bySize, [](Temporary *a, Temporary *b) {
    return a->bytes != b->bytes ? a->bytes > b->bytes : a < b;
  });
  SmallVector<Temporary *> placed;
  uint64_t size = 0;
  for (Temporary *t : bySize) {
    SmallVector<Temporary *> live;
    for (Temporary *p : placed)
      if (p->first <= t->last && t->first <= p->last)
        live.push_back(p);
    llvm::sort(
        live, [](Temporary *a, Temporary *b) { return a->offset < b->offset; });
    uint64_t offset = 0;
    for (Temporary *p : live) {
      if (offset + t->bytes <= p->offset)
        break;
      offset = std::max(offset, llvm::alignTo(p->offset + p->bytes, alignment));
    }
    t->offset = offset;
    size = std::max(size, offset + t->bytes);
    placed.push_back(t);
  }
  return size;
}

/// The async token `op` returned, replaced by what it waited for: its one
/// dependency, or a wait on all of them.
void bypassAsyncToken(OpBuilder &b, Operation *op, Value token,
                      ValueRange dependencies) {
  if (!token || token.use_empty())
    return;
  if (dependencies.size() == 1) {
    token.replaceAllUsesWith(dependencies.front());
    return;
  }
  b.setInsertionPoint(op);
  auto wait = gpu::WaitOp::create(
      b, op->getLoc(), b.getType<gpu::AsyncTokenType>(), dependencies);
  token.replaceAllUsesWith(wait.getAsyncToken());
}

void eraseAllocation(OpBuilder &b, Operation *op) {
  if (auto alloc = dyn_cast<gpu::AllocOp>(op))
    bypassAsyncToken(b, op, alloc.getAsyncToken(),
                     alloc.getAsyncDependencies());
  if (auto dealloc = dyn_cast<gpu::DeallocOp>(op))
    bypassAsyncToken(b, op, dealloc.getAsyncToken(),
                     dealloc.getAsyncDependencies());
  op->erase();
}

/// Plans `func`'s temporaries into a workspace argument appended to it;
/// returns the workspace's size.
std::optional<uint64_t> planEntryPoint(func::FuncOp func, uint64_t alignment) {
  Block &body = func.getBody().front();
  DenseMap<Operation *, int64_t> order;
  for (auto [i, op] : llvm::enumerate(body))
    order[&op] = static_cast<int64_t>(i);

  SmallVector<Temporary> temporaries;
  SmallVector<Operation *> unused; // allocated and freed, never used
  for (Operation &op : body) {
    Value buffer = allocated(&op);
    if (!buffer)
      continue;
    auto type = cast<MemRefType>(buffer.getType());
    Temporary t{&op, {}, type};
    if (!isViewable(type) || !findLifetime(body, order, buffer, t))
      continue;
    t.bytes =
        llvm::alignTo(type.getNumElements() *
                          llvm::divideCeil(type.getElementTypeBitWidth(), 8),
                      alignment);
    if (t.last < 0) {
      llvm::append_range(unused, t.deallocs);
      unused.push_back(&op);
      continue;
    }
    temporaries.push_back(std::move(t));
  }
  uint64_t size = placeTemporaries(temporaries, alignment);

  OpBuilder b(func.getContext());
  for (Operation *op : unused)
    eraseAllocation(b, op);
  auto workspaceType =
      MemRefType::get({static_cast<int64_t>(size)}, b.getIntegerType(8));
  if (failed(func.insertArgument(func.getNumArguments(), workspaceType, {},
                                 func.getLoc())))
    return std::nullopt;
  Value workspace = func.getArguments().back();
  for (Temporary &t : temporaries) {
    b.setInsertionPoint(t.alloc);
    Location loc = t.alloc->getLoc();
    Value offset =
        arith::ConstantIndexOp::create(b, loc, static_cast<int64_t>(t.offset));
    Value view =
        memref::ViewOp::create(b, loc, t.type, workspace, offset, ValueRange{});
    t.alloc->getResult(0).replaceAllUsesWith(view);
    for (Operation *dealloc : t.deallocs)
      eraseAllocation(b, dealloc);
    eraseAllocation(b, t.alloc);
  }
  llamac::recordEntryMemrefs(func); // now with the workspace
  return size;
}

struct PlanWorkspacePass
    : llamac::impl::LlamaPlanWorkspaceBase<PlanWorkspacePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (alignment <= 0 || !llvm::isPowerOf2_64(alignment)) {
      module.emitError() << "llama-plan-workspace: alignment must be a power "
                            "of two, got "
                         << static_cast<int64_t>(alignment);
      return signalPassFailure();
    }
    uint64_t size = 0;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!func->hasAttr("llama.entry_memrefs"))
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError() << "llama-plan-workspace: the entry point must be "
                            "one block (straight-line kernel launches)";
        return signalPassFailure();
      }
      std::optional<uint64_t> bytes = planEntryPoint(func, alignment);
      if (!bytes) {
        func.emitError() << "llama-plan-workspace: cannot add the workspace "
                            "argument";
        return signalPassFailure();
      }
      size = std::max(size, *bytes);
    }
    module->setAttr("llama.workspace_bytes",
                    Builder(module).getI64IntegerAttr(size));
  }
};

} // namespace
