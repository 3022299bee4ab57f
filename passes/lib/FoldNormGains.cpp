//===- FoldNormGains.cpp - RMSNorm gains into the next weights -*- C++ -*-===//
//
// linear(rms_norm(x, g), W) = linear(rms_norm(x), W * diag(g)): the packer
// scales the weights' columns, and the norm is left as x times a factor of
// its row, which a GEMV reading x can apply to its sums (llama-map-to-gpu).
// Decided per gain param over the whole module (decode and prefill share
// the weights), so that every reader of a scaled weight sees a norm
// without gains.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "llama/LlamaOps.h"

#include "llvm/ADT/MapVector.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAFOLDNORMGAINS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// The norms that read one gain param and the params of the weights their
/// readers multiply by.
struct GainGroup {
  SmallVector<llama::RMSNormOp> norms;
  llvm::SetVector<StringAttr> weights;
  bool foldable = true;
};

StringAttr paramOf(Value value) {
  auto weight = value.getDefiningOp<llama::WeightOp>();
  return weight ? weight.getParamAttr().getAttr() : StringAttr();
}

struct FoldNormGainsPass
    : llamac::impl::LlamaFoldNormGainsBase<FoldNormGainsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::MapVector<StringAttr, GainGroup> groups;
    // Every op that reads each param, to tell a weight read only by the
    // linear layers of one gain group.
    llvm::DenseMap<StringAttr, SmallVector<Operation *>> readers;
    llvm::DenseMap<StringAttr, Type> types; // each param's element type
    module.walk([&](llama::WeightOp weight) {
      StringAttr param = weight.getParamAttr().getAttr();
      types[param] = getElementTypeOrSelf(weight.getType());
      for (Operation *user : weight->getUsers())
        readers[param].push_back(user);
    });
    module.walk([&](llama::RMSNormOp norm) {
      StringAttr gain = norm.getWeight() ? paramOf(norm.getWeight()) : nullptr;
      if (!gain)
        return;
      GainGroup &group = groups[gain];
      group.norms.push_back(norm);
      for (Operation *user : norm->getUsers()) {
        auto linear = dyn_cast<llama::LinearOp>(user);
        StringAttr weight = linear ? paramOf(linear.getWeight()) : nullptr;
        if (!linear || linear.getInput() != norm.getResult() || !weight) {
          group.foldable = false;
          continue;
        }
        group.weights.insert(weight);
      }
    });
    llvm::DenseMap<StringAttr, StringAttr> scaledBy;
    for (auto &[gain, group] : groups) {
      if (!group.foldable || group.weights.empty())
        continue;
      // Each weight read only as a linear layer's of one of the norms, and
      // stored in f32 (W * g rounds at 2^-24) or bf16 (at the size of the
      // bf16 rounding of the activations those layers read); not f16,
      // whose models compute in f32 (W * g in f16: ~2.5e-4 of the logits).
      bool alone = llvm::all_of(group.weights, [&](StringAttr weight) {
        Type element = types.lookup(weight);
        return (element && (element.isF32() || element.isBF16())) &&
               !scaledBy.contains(weight) &&
               llvm::all_of(readers[weight], [&](Operation *reader) {
                 auto linear = dyn_cast<llama::LinearOp>(reader);
                 auto norm =
                     linear
                         ? linear.getInput().getDefiningOp<llama::RMSNormOp>()
                         : llama::RMSNormOp();
                 return norm && norm.getWeight() &&
                        paramOf(norm.getWeight()) == gain;
               });
      });
      if (!alone)
        continue;
      for (StringAttr weight : group.weights)
        scaledBy[weight] = gain;
      for (llama::RMSNormOp norm : group.norms) {
        Operation *gainRead = norm.getWeight().getDefiningOp();
        norm.getWeightMutable().clear();
        if (gainRead->use_empty())
          gainRead->erase();
      }
    }
    for (auto param : module.getOps<llama::ParamOp>())
      if (StringAttr gain = scaledBy.lookup(param.getSymNameAttr()))
        param.setColumnScaleAttr(FlatSymbolRefAttr::get(gain));
  }
};
} // namespace
