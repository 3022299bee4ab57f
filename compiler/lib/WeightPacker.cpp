//===- WeightPacker.cpp - checkpoint tensors -> the weights blob -*- C++ -*-===//
#include "llamac/compiler/WeightPacker.h"
#include "llamac/compiler/Payload.h"
#include "llamac/frontend/FloatBits.h"

#include "llama/LlamaOps.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"

#include <vector>

using namespace llamac;
using llvm::Error;

namespace {
Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// "\rpacking weights  42% (1.1 of 2.5 GiB)", redrawn in place.
class ProgressBar {
public:
  explicit ProgressBar(uint64_t total)
      : total_(total),
        enabled_(llvm::sys::Process::StandardErrIsDisplayed() &&
                 total >= (uint64_t(64) << 20)) {}
  void update(uint64_t done) {
    if (!enabled_)
      return;
    unsigned percent = unsigned(done * 100 / total_);
    if (percent == lastPercent_)
      return;
    lastPercent_ = percent;
    llvm::errs() << llvm::formatv("\rpacking weights {0,3}% ({1:f1} of {2:f1} "
                                  "GiB)",
                                  percent, done / double(1 << 30),
                                  total_ / double(1 << 30));
    if (done == total_)
      llvm::errs() << "\n";
  }

private:
  uint64_t total_;
  bool enabled_;
  unsigned lastPercent_ = ~0u;
};
} // namespace

llvm::Expected<WeightLayout> llamac::readWeightLayout(mlir::ModuleOp module) {
  auto total = module->getAttrOfType<mlir::IntegerAttr>("llama.weights_bytes");
  if (!total)
    return fail("internal error: the module has no llama.weights_bytes");
  WeightLayout layout;
  layout.totalBytes = total.getInt();
  for (auto param : module.getOps<mlir::llama::ParamOp>()) {
    if (!param.getOffset())
      return fail("internal error: param " + param.getSymName() +
                  " has no offset");
    mlir::RankedTensorType type = param.getTensorType();
    uint64_t bytes = type.getNumElements() *
                     ((type.getElementTypeBitWidth() + 7) / 8);
    std::string columnScale;
    if (auto scale = param.getColumnScaleAttr())
      columnScale = scale.getValue().str();
    layout.weights.push_back({param.getSymName().str(), *param.getOffset(),
                              bytes, std::move(columnScale)});
  }
  llvm::sort(layout.weights, [](const PlannedWeight &a, const PlannedWeight &b) {
    return a.offset < b.offset;
  });
  return layout;
}

/// W[n, k] * g[k] for each row n of `weight`, in W's dtype (the columns
/// scaled by an RMSNorm's gains, see llama-fold-norm-gains).
static Error writeColumnScaled(llvm::raw_ostream &out,
                               const Checkpoint &checkpoint,
                               const PlannedWeight &weight,
                               const LocatedTensor &tensor,
                               ProgressBar &progress) {
  std::optional<LocatedTensor> scale = checkpoint.find(weight.columnScale);
  const TensorInfo &info = *tensor.info;
  if (!scale || info.shape.size() != 2 || scale->info->shape.size() != 1 ||
      scale->info->shape[0] != info.shape[1])
    return fail("internal error: checkpoint tensor '" + weight.columnScale +
                "' cannot scale the columns of '" + weight.name + "'");
  const uint8_t *gains = scale->file->data(*scale->info).data();
  unsigned gainSize = dtypeSize(scale->info->dtype);
  std::vector<float> gain(info.shape[1]);
  for (size_t k = 0; k < gain.size(); ++k)
    gain[k] = loadAsFloat(gains + k * gainSize, scale->info->dtype);
  llvm::ArrayRef<uint8_t> bytes = tensor.file->data(info);
  unsigned size = dtypeSize(info.dtype);
  uint64_t rowBytes = gain.size() * size;
  std::vector<uint8_t> row(rowBytes);
  for (uint64_t at = 0; at < bytes.size(); at += rowBytes) {
    for (size_t k = 0; k < gain.size(); ++k)
      storeRounded(row.data() + k * size, info.dtype,
                   loadAsFloat(bytes.data() + at + k * size, info.dtype) *
                       gain[k]);
    out.write(reinterpret_cast<const char *>(row.data()), rowBytes);
    progress.update(weight.offset + at + rowBytes);
  }
  return Error::success();
}

Error llamac::packWeights(llvm::raw_ostream &out, const Checkpoint &checkpoint,
                          const WeightLayout &layout) {
  ProgressBar progress(layout.totalBytes);
  uint64_t written = 0;
  for (const PlannedWeight &weight : layout.weights) {
    std::optional<LocatedTensor> tensor = checkpoint.find(weight.name);
    if (!tensor || tensor->info->size != weight.bytes)
      return fail("internal error: checkpoint tensor '" + weight.name +
                  "' does not match the planned weight");
    writeZeros(out, weight.offset - written);
    llvm::ArrayRef<uint8_t> bytes = tensor->file->data(*tensor->info);
    if (!weight.columnScale.empty()) {
      if (Error error =
              writeColumnScaled(out, checkpoint, weight, *tensor, progress))
        return error;
      written = weight.offset + weight.bytes;
      continue;
    }
    // Written in slices so that the progress bar moves on large tensors.
    constexpr uint64_t kSlice = 16u << 20;
    for (uint64_t at = 0; at < bytes.size(); at += kSlice) {
      uint64_t n = std::min<uint64_t>(kSlice, bytes.size() - at);
      out.write(reinterpret_cast<const char *>(bytes.data() + at), n);
      progress.update(weight.offset + at + n);
    }
    written = weight.offset + weight.bytes;
  }
  writeZeros(out, layout.totalBytes - written);
  progress.update(layout.totalBytes);
  return Error::success();
}
