//===- Pipelines.cpp - named pass pipelines ---------------------*- C++ -*-===//
#include "llamac/passes/Pipelines.h"
#include "llamac/passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace {
/// llama -> linalg on tensors (the attention as one llama.flash_attention
/// where the target fuses it).
void addModelLowering(OpPassManager &pm, bool flashAttention = false) {
  llamac::LlamaToLinalgOptions options;
  options.flashAttention = flashAttention;
  pm.addPass(llamac::createLlamaToLinalg(options));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// Tensors -> buffers: the KV cache in place, logits into an out-param,
/// temporaries freed where their ownership ends.
void addBufferization(OpPassManager &pm) {
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
}

/// The host side's memrefs, arithmetic and functions -> the LLVM dialect;
/// the entry points then get the runtime's bare-pointer C ABI.
void addHostToLLVM(OpPassManager &pm) {
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

/// Host: buffers -> loops -> the LLVM dialect.
void addLLVMLowering(OpPassManager &pm) {
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  addHostToLLVM(pm);
  pm.addPass(llamac::createLlamaExportEntryPoints());
  pm.addPass(createCanonicalizerPass());
}
} // namespace

void llamac::buildHostPlanningPipeline(OpPassManager &pm,
                                       const HostPipelineOptions &options) {
  if (options.foldNormGains)
    pm.addPass(llamac::createLlamaFoldNormGains());
  LlamaPlanWeightsOptions plan;
  plan.alignment = options.weightAlignment;
  pm.addPass(createLlamaPlanWeights(plan));
}

void llamac::buildHostLoweringPipeline(OpPassManager &pm) {
  addModelLowering(pm);
  addBufferization(pm);
  // The entry points become schedules of calls to shared kernels.
  pm.addPass(llamac::createLlamaOutlineKernels());
  // Temporaries at planned offsets in one workspace the runtime allocates.
  pm.addPass(llamac::createLlamaPlanWorkspace());
  pm.addPass(createCanonicalizerPass());
  // Linear layers: register tiles of vector FMAs; the rest becomes loops.
  pm.addPass(llamac::createLlamaVectorizeLinear());
  pm.addPass(createCanonicalizerPass());
  addLLVMLowering(pm);
}

void llamac::buildHostPipeline(OpPassManager &pm,
                               const HostPipelineOptions &options) {
  buildHostPlanningPipeline(pm, options);
  buildHostLoweringPipeline(pm);
}

std::string llamac::ptxFeaturesForChip(llvm::StringRef chip) {
  // The PTX ISA that introduced each arch (what ptxas and the driver's JIT
  // of CUDA 11.0 / 11.1 / 11.8 / 11.8 accept).
  return llvm::StringSwitch<std::string>(chip)
      .Case("sm_80", "+ptx70")
      .Case("sm_86", "+ptx71")
      .Case("sm_89", "+ptx78")
      .Case("sm_90", "+ptx78")
      .Default("");
}

void llamac::buildCudaLoweringPipeline(OpPassManager &pm,
                                       const CudaPipelineOptions &options) {
  bool wgmma = options.wgmma && options.chip == "sm_90";
  addModelLowering(pm, /*flashAttention=*/true);
  // q/k/v and gate/up as one GEMV each: one kernel's ramp-up and tail.
  pm.addPass(llamac::createLlamaMergeSiblingLinears());
  // The o and down projections straight onto the residual stream.
  pm.addPass(llamac::createLlamaAccumulateResiduals());
  if (options.bf16GemmActivations) {
    // Decode's GEMVs too: half the activation bytes each warp reads.
    LlamaNarrowGemmActivationsOptions narrow;
    narrow.gemvs = true;
    pm.addPass(llamac::createLlamaNarrowGemmActivations(narrow));
  }
  // Elementwise chains as one op (the new key's RoPE and its cache copy).
  pm.addPass(llamac::createLlamaFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  addBufferization(pm);
  LlamaMapToGPUOptions mapping;
  mapping.wgmma = wgmma;
  mapping.tma = options.tma; // taken by the wgmma GEMMs only
  mapping.bf16Attention = options.bf16Attention;
  mapping.clusters = options.chip == "sm_90";
  pm.addPass(llamac::createLlamaMapToGPU(mapping));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Kernels in a row that do not depend on each other as one launch.
  pm.addPass(llamac::createLlamaMergeLaunches());
  // The kernels read the positions themselves: each call of an entry point
  // makes the same launches (one CUDA graph, replayed).
  pm.addPass(llamac::createLlamaSinkHostReads());
  // Temporaries at planned offsets in one workspace the runtime allocates
  // once (no allocations in the graphs; dead activations' bytes reused).
  pm.addPass(llamac::createLlamaPlanWorkspace());
  pm.addPass(createCanonicalizerPass());
  // Constants and index arithmetic into the kernels: loop bounds and shuffle
  // offsets known to LLVM (unrolled loops, immediate operands) instead of
  // kernel parameters.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(llamac::createLlamaMergeKernelModules());
  GpuNVVMAttachTargetOptions target;
  // Hopper's warpgroup MMA exists only in the arch-specific sm_90a, whose
  // PTX runs on sm_90 GPUs and no other.
  target.chip = wgmma ? "sm_90a" : options.chip;
  // sm_90a's PTX ISA is 8.0's (CUDA 12.0).
  target.features = wgmma ? "+ptx80" : options.ptxFeatures;
  target.optLevel = 3;
  if (!options.libdevice.empty())
    target.linkLibs.push_back(options.libdevice);
  pm.addPass(createGpuNVVMAttachTarget(target));
  // sm_90: each kernel's launch overlaps the end of the one before.
  pm.addPass(llamac::createLlamaOverlapLaunches());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  // cp.async (the tensor-core kernels' tile copies) first.
  kernels.addPass(createConvertNVGPUToNVVMPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  // NVVM ops that are PTX text (wgmma) as inline assembly.
  kernels.addPass(createConvertNVVMToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  addHostToLLVM(pm);
  // PTX text from LLVM's own NVPTX backend (no CUDA toolkit needed), or a
  // cubin assembled from it by the toolkit's ptxas.
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.cubinToolkit.empty() ? "isa" : "bin";
  binary.toolkitPath = options.cubinToolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(llamac::createLlamaExportEntryPoints());
  pm.addPass(createCanonicalizerPass());
}

namespace {
struct CudaPipelineCLOptions
    : public PassPipelineOptions<CudaPipelineCLOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("NVIDIA arch: sm_80, sm_86, sm_89 "
                                          "or sm_90"),
                           llvm::cl::init("sm_90")};
  Option<std::string> libdevice{
      *this, "libdevice", llvm::cl::desc("CUDA's libdevice.10.bc to link")};
  enum class GemmPrecision { BF16, F32 };
  Option<GemmPrecision> gemmPrecision{
      *this, "gemm-precision",
      llvm::cl::desc("Activations of the tensor-core GEMMs (llamac compile's "
                     "--gemm-precision)"),
      llvm::cl::init(GemmPrecision::BF16),
      llvm::cl::values(clEnumValN(GemmPrecision::BF16, "bf16", "bf16"),
                       clEnumValN(GemmPrecision::F32, "f32", "bf16 hi + lo"))};
  Option<bool> wgmma{
      *this, "wgmma",
      llvm::cl::desc("sm_90: the GEMMs with bf16 activations as sm_90a "
                     "warpgroup MMAs instead of mma.sync (default on)"),
      llvm::cl::init(true)};
  Option<bool> tma{*this, "tma",
                   llvm::cl::desc("With wgmma: the GEMMs' tiles by TMA "
                                  "(experimental, default off)"),
                   llvm::cl::init(false)};
  Option<bool> bf16Attention{
      *this, "bf16-attention",
      llvm::cl::desc("Prefill's attention in bf16 products (llamac compile's "
                     "--attention-precision bf16; default off here)"),
      llvm::cl::init(false)};
};
} // namespace

void llamac::registerPipelines() {
  PassPipelineRegistration<>(
      "llama-to-host",
      "Lower the llama dialect to the LLVM dialect for the host CPU (the "
      "pipeline of llamac compile --target host)",
      [](OpPassManager &pm) { buildHostPipeline(pm); });
  PassPipelineRegistration<CudaPipelineCLOptions>(
      "llama-to-cuda",
      "Lower the llama dialect to the LLVM dialect with PTX kernels for an "
      "NVIDIA GPU (the pipeline of llamac compile --target sm_NN)",
      [](OpPassManager &pm, const CudaPipelineCLOptions &cl) {
        HostPipelineOptions planning;
        planning.foldNormGains =
            cl.gemmPrecision == CudaPipelineCLOptions::GemmPrecision::BF16;
        buildHostPlanningPipeline(pm, planning);
        CudaPipelineOptions options;
        options.chip = cl.chip;
        options.ptxFeatures = ptxFeaturesForChip(cl.chip);
        options.libdevice = cl.libdevice;
        options.bf16GemmActivations =
            cl.gemmPrecision == CudaPipelineCLOptions::GemmPrecision::BF16;
        options.wgmma = cl.wgmma;
        options.tma = cl.tma;
        options.bf16Attention = cl.bf16Attention;
        buildCudaLoweringPipeline(pm, options);
      });
}
