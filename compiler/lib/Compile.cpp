//===- Compile.cpp - checkpoint -> standalone executable --------*- C++ -*-===//
//
//   import (frontend) -> plan (weights layout) -> lower (llama -> LLVM
//   dialect) -> object (LLVM -O3) -> link (runtime) -> payload (weights)
//
// The IR of every step can be dumped (--dump-ir) or printed
// (--print-ir-after-all); --emit stops after any stage.
//
//===----------------------------------------------------------------------===//
#include "llamac/compiler/Compile.h"
#include "llamac/compiler/IRDump.h"
#include "llamac/compiler/Linker.h"
#include "llamac/compiler/ObjectEmitter.h"
#include "llamac/compiler/Payload.h"
#include "llamac/compiler/TokenizerSection.h"
#include "llamac/runtime/Tokenizer.h"
#include "llamac/compiler/WeightPacker.h"

#include "llamac/frontend/Importer.h"
#include "llamac/passes/Pipelines.h"
#include "llamac/passes/Registration.h"
#include "llama/LlamaOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <cstdlib>
#include <optional>

using namespace llamac;
using llvm::Error;

namespace {
Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool isCudaTarget(llvm::StringRef target) {
  return !ptxFeaturesForChip(target).empty();
}

/// Whether the GPU's linear layers round their activations to bf16
/// (--gemm-precision, bf16 unless asked otherwise).
bool roundsGemmActivations(const CompileOptions &options) {
  return options.gemmPrecision.value_or(GemmPrecision::BF16) ==
         GemmPrecision::BF16;
}

Error checkOptions(const CompileOptions &options) {
  if (options.target != "host" && !isCudaTarget(options.target))
    return fail("--target " + options.target +
                ": unknown target (supported: host, sm_80, sm_86, sm_89, "
                "sm_90)");
  if (options.gemmPrecision && !isCudaTarget(options.target))
    return fail("--gemm-precision applies to a GPU target (--target sm_NN) "
                "only");
  if (options.attentionPrecision && !isCudaTarget(options.target))
    return fail("--attention-precision applies to a GPU target (--target "
                "sm_NN) only");
  if (options.prefillChunk &&
      (*options.prefillChunk < 1 || *options.prefillChunk > 4096))
    return fail(llvm::formatv("--prefill-chunk {0} is out of range [1, 4096]",
                              *options.prefillChunk));
  if (options.longPrefillChunk &&
      (*options.longPrefillChunk < 0 || *options.longPrefillChunk > 4096))
    return fail(llvm::formatv(
        "--long-prefill-chunk {0} is out of range [0, 4096] (0: none)",
        *options.longPrefillChunk));
  if (options.samplingCandidates &&
      (*options.samplingCandidates < 1 ||
       *options.samplingCandidates > kMaxSamplingCandidates))
    return fail(llvm::formatv("--sampling-candidates {0} is out of range [1, "
                              "{1}]",
                              *options.samplingCandidates,
                              kMaxSamplingCandidates));
  return Error::success();
}

/// The PTX of the kernels (one module, see llama-merge-kernel-modules).
Error writeKernelPTX(llvm::StringRef path, mlir::ModuleOp module) {
  std::string ptx;
  for (auto binary : module.getOps<mlir::gpu::BinaryOp>())
    for (mlir::Attribute object : binary.getObjects())
      if (auto gpuObject = llvm::dyn_cast<mlir::gpu::ObjectAttr>(object))
        ptx += gpuObject.getObject().getValue();
  if (ptx.empty())
    return fail("--emit=ptx: the target has no GPU kernels (use a CUDA "
                "target: --target sm_90)");
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail(path + ": " + ec.message());
  out.os() << ptx;
  out.keep();
  return Error::success();
}

/// The CUDA toolkit under $CUDA_HOME, $CUDA_PATH or /usr/local/cuda: its
/// libdevice, whose functions the kernels' math (exp, rsqrt, sin, cos)
/// calls, is required; its ptxas, which turns the PTX into a cubin at
/// compile time (instead of the driver's JIT at every start), is used where
/// present.
struct CudaToolkit {
  std::string root;
  std::string libdevice;
  bool hasPtxas = false;
};

llvm::Expected<CudaToolkit> findCudaToolkit() {
  llvm::SmallVector<std::string> roots;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(var); value && *value)
      roots.push_back(value);
  roots.push_back("/usr/local/cuda");
  for (const std::string &root : roots) {
    llvm::SmallString<256> path(root);
    llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
    if (!llvm::sys::fs::exists(path))
      continue;
    llvm::SmallString<256> ptxas(root);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    return CudaToolkit{root, std::string(path),
                       llvm::sys::fs::can_execute(ptxas)};
  }
  return fail("CUDA targets need CUDA's libdevice (nvvm/libdevice/"
              "libdevice.10.bc), found under neither $CUDA_HOME, $CUDA_PATH "
              "nor /usr/local/cuda; install the CUDA toolkit or set "
              "CUDA_HOME");
}

/// Runs `pm`, turning the first diagnostic into a one-line error.
Error runPipeline(mlir::PassManager &pm, mlir::ModuleOp module,
                  llvm::StringRef what) {
  std::optional<std::string> first;
  mlir::ScopedDiagnosticHandler handler(
      module.getContext(), [&](mlir::Diagnostic &diag) {
        if (diag.getSeverity() == mlir::DiagnosticSeverity::Error && !first)
          first = diag.str();
        return mlir::success();
      });
  if (mlir::succeeded(pm.run(module)))
    return Error::success();
  return fail("internal compiler error in the " + what + " pipeline: " +
              first.value_or("a pass failed"));
}

/// The second prefill entry's chunk (0: none): as asked, else the GPU
/// default where it is longer than the first and fits in the context.
llvm::Expected<int64_t> longPrefillChunk(const CompileOptions &options,
                                         int64_t prefillChunk,
                                         int64_t ctxSize) {
  if (!options.longPrefillChunk)
    return isCudaTarget(options.target) && !options.logitsAll &&
                   prefillChunk < kDefaultCudaLongPrefillChunk &&
                   kDefaultCudaLongPrefillChunk <= ctxSize
               ? kDefaultCudaLongPrefillChunk
               : 0;
  int64_t chunk = *options.longPrefillChunk;
  if (chunk != 0 && chunk <= prefillChunk)
    return fail(llvm::formatv("--long-prefill-chunk {0} must exceed the "
                              "prefill chunk {1} (0: none)",
                              chunk, prefillChunk));
  if (chunk > ctxSize)
    return fail(
        llvm::formatv("--long-prefill-chunk {0} exceeds the context size {1}",
                      chunk, ctxSize));
  return chunk;
}

/// Each row's top_k pairs: as asked (the importer checks it against the
/// vocabulary), else the target's default, at most the vocabulary.
int64_t samplingCandidates(const CompileOptions &options, int64_t vocab) {
  return options.samplingCandidates.value_or(std::min<int64_t>(
      isCudaTarget(options.target) ? kDefaultCudaSamplingCandidates : 1,
      vocab));
}

llamac_model_info modelInfo(mlir::ModuleOp module, const CompileOptions &opt,
                            int64_t ctxSize, int64_t prefillChunk,
                            int64_t longChunk, int64_t candidates,
                            uint64_t weightsBytes) {
  auto config = module->getAttrOfType<mlir::llama::ModelConfigAttr>(
      "llama.config");
  llamac_model_info info = {};
  info.abi_version = LLAMAC_ABI_VERSION;
  info.vocab_size = config.getVocabSize();
  info.hidden_size = config.getHiddenSize();
  info.num_layers = config.getNumLayers();
  info.num_heads = config.getNumHeads();
  info.num_kv_heads = config.getNumKvHeads();
  info.head_dim = config.getHeadDim();
  info.ctx_size = ctxSize;
  info.batch = opt.batch;
  info.prefill_chunk = prefillChunk;
  info.prefill_logits_rows = opt.logitsAll ? prefillChunk : 1;
  info.prefill_long_chunk = longChunk;
  info.prefill_long_logits_rows = !longChunk      ? 0
                                  : opt.logitsAll ? longChunk
                                                  : 1;
  info.sampling_candidates = candidates;
  info.bos_token_id = config.getBosTokenId();
  llvm::ArrayRef<int64_t> eos = config.getEosTokenIds();
  info.num_eos = std::min<int64_t>(eos.size(), LLAMAC_MAX_EOS);
  for (int64_t i = 0; i < info.num_eos; ++i)
    info.eos_token_ids[i] = eos[i];
  info.weights_bytes = weightsBytes;
  if (isCudaTarget(opt.target))
    info.cuda_arch = std::stoi(opt.target.substr(3));
  if (auto entries =
          module->getAttrOfType<mlir::ArrayAttr>("llama.replayable_entries"))
    for (auto name : entries.getAsValueRange<mlir::StringAttr>())
      info.replayable |= name == "llamac_decode"    ? LLAMAC_REPLAYABLE_DECODE
                         : name == "llamac_prefill" ? LLAMAC_REPLAYABLE_PREFILL
                         : name == "llamac_prefill_long"
                             ? LLAMAC_REPLAYABLE_PREFILL_LONG
                             : 0;
  info.kv_cache_floats = info.num_layers * 2 * info.batch * info.num_kv_heads *
                         ctxSize * info.head_dim;
  if (auto workspace =
          module->getAttrOfType<mlir::IntegerAttr>("llama.workspace_bytes"))
    info.workspace_bytes = workspace.getInt();
  return info;
}

/// The path of a fresh temporary file.
llvm::Expected<std::string> temporaryFile(llvm::StringRef prefix,
                                          llvm::StringRef suffix) {
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile(prefix, suffix, path))
    return fail("cannot create a temporary file: " + ec.message());
  return std::string(path);
}

Error writeText(llvm::StringRef path, mlir::ModuleOp module) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail(path + ": " + ec.message());
  module->print(out.os());
  out.keep();
  return Error::success();
}

/// Appends the weights (and the tokenizer) to the executable, or writes them
/// beside it.
Error writePayload(const CompileOptions &options, const Checkpoint &checkpoint,
                   const WeightLayout &layout,
                   const std::optional<TokenizerSection> &tokenizer) {
  bool embed = options.weights == WeightsPlacement::Embed ||
               (options.weights == WeightsPlacement::Auto &&
                layout.totalBytes <= options.embedLimitBytes);
  std::string path = embed ? options.output : options.output + ".weights";
  auto writer = PayloadWriter::open(path, /*append=*/embed);
  if (!writer)
    return writer.takeError();
  if (Error e = (*writer)->addSection(
          "weights", layout.totalBytes, [&](llvm::raw_ostream &out) {
            return packWeights(out, checkpoint, layout);
          }))
    return e;
  if (tokenizer)
    if (Error e = (*writer)->addSection(tokenizer->name, tokenizer->bytes.size(),
                                        [&](llvm::raw_ostream &out) -> Error {
                                          out << tokenizer->bytes;
                                          return Error::success();
                                        }))
      return e;
  return (*writer)->finish();
}

/// Prefill attention's products: bf16 where the checkpoint is bf16 and its
/// GEMMs round their activations to bf16 too (as PyTorch's bf16 sdpa
/// rounds its operands), else f32; bf16 on an f32 or f16 model is an error
/// (its layers keep f32 activations everywhere else).
llvm::Expected<AttentionPrecision>
attentionPrecision(const CompileOptions &options,
                   const Checkpoint &checkpoint) {
  auto query = checkpoint.find("model.layers.0.self_attn.q_proj.weight");
  bool bf16Model = query && query->info->dtype == DType::BF16;
  if (!options.attentionPrecision)
    return bf16Model && roundsGemmActivations(options)
               ? AttentionPrecision::BF16
               : AttentionPrecision::F32;
  if (*options.attentionPrecision == AttentionPrecision::BF16 && !bf16Model)
    return fail("--attention-precision bf16 needs a bf16 checkpoint (this "
                "one's weights are not bf16)");
  return *options.attentionPrecision;
}
} // namespace

Error llamac::compile(const CompileOptions &options, const char *argv0) {
  if (Error e = checkOptions(options))
    return e;
  auto checkpoint = Checkpoint::open(options.checkpointDir);
  if (!checkpoint)
    return checkpoint.takeError();
  // The executable's tokenizer is read (and tried) first, so that a broken
  // one fails before the long steps; the other stages write no payload.
  std::optional<TokenizerSection> tokenizer;
  if (options.emit == EmitStage::Executable) {
    auto read = readTokenizerSection(options.checkpointDir);
    if (!read)
      return read.takeError();
    tokenizer = std::move(*read);
  }
  if (tokenizer) {
    auto loaded = loadTokenizerSection(*tokenizer);
    if (!loaded)
      return loaded.takeError();
    // The executable puts config.json's BOS first; say so where the
    // tokenizer's own template differs.
    int64_t bos = (*checkpoint)->config().bosTokenId;
    if ((*loaded)->bosId() >= 0 && (*loaded)->bosId() != bos)
      llvm::WithColor::warning(llvm::errs(), "llamac")
          << tokenizer->source << " puts BOS " << (*loaded)->bosId()
          << " first, but config.json's bos_token_id is " << bos
          << "; the executable uses " << bos << "\n";
  }

  mlir::DialectRegistry registry;
  registerLlamacDialects(registry);
  mlir::MLIRContext context(registry);
  // IR printing at module scope needs a single-threaded context.
  context.disableMultithreading();

  ImportOptions importOptions;
  importOptions.batch = options.batch;
  importOptions.ctxSize = options.ctxSize;
  auto ctxSize = resolveContextSize((*checkpoint)->config(), importOptions);
  if (!ctxSize)
    return ctxSize.takeError();
  // The default chunk shrinks to a small context; an explicit one must fit.
  int64_t prefillChunk = options.prefillChunk.value_or(std::min<int64_t>(
      isCudaTarget(options.target) ? kDefaultCudaPrefillChunk
                                   : kDefaultPrefillChunk,
      *ctxSize));
  if (prefillChunk > *ctxSize)
    return fail(llvm::formatv("--prefill-chunk {0} exceeds the context size {1}",
                              prefillChunk, *ctxSize));
  auto longChunk = longPrefillChunk(options, prefillChunk, *ctxSize);
  if (!longChunk)
    return longChunk.takeError();
  const int64_t candidates =
      samplingCandidates(options, (*checkpoint)->config().vocabSize);
  importOptions.samplingCandidates = candidates;
  importOptions.entryPoints = {
      {"llamac_decode", 1},
      {"llamac_prefill", prefillChunk, /*lastRowLogits=*/!options.logitsAll}};
  if (*longChunk)
    importOptions.entryPoints.push_back(
        {"llamac_prefill_long", *longChunk, !options.logitsAll});
  auto module = importCheckpoint(context, **checkpoint, importOptions);
  if (!module)
    return module.takeError();
  if (options.emit == EmitStage::Llama)
    return writeText(options.output, **module);

  std::optional<IRDumpDirectory> dump;
  if (!options.dumpIRDir.empty()) {
    dump.emplace(options.dumpIRDir);
    if (Error e = dump->createDirectory())
      return e;
    if (Error e = dump->dumpStage("import", **module))
      return e;
  }
  auto instrument = [&](mlir::PassManager &pm) {
    if (dump)
      dump->attach(pm);
    if (options.printIRAfterAll)
      pm.enableIRPrinting(
          /*shouldPrintBeforePass=*/nullptr,
          /*shouldPrintAfterPass=*/
          [](mlir::Pass *, mlir::Operation *) { return true; },
          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  };

  mlir::PassManager plan(&context);
  instrument(plan);
  HostPipelineOptions planning;
  planning.foldNormGains =
      isCudaTarget(options.target) && roundsGemmActivations(options);
  buildHostPlanningPipeline(plan, planning);
  if (Error e = runPipeline(plan, **module, "planning"))
    return e;
  auto layout = readWeightLayout(**module);
  if (!layout)
    return layout.takeError();

  mlir::PassManager lower(&context);
  instrument(lower);
  if (isCudaTarget(options.target)) {
    auto toolkit = findCudaToolkit();
    if (!toolkit)
      return toolkit.takeError();
    CudaPipelineOptions cuda;
    cuda.chip = options.target;
    cuda.ptxFeatures = ptxFeaturesForChip(options.target);
    cuda.libdevice = toolkit->libdevice;
    cuda.bf16GemmActivations = roundsGemmActivations(options);
    cuda.tma = options.tma;
    auto precision = attentionPrecision(options, **checkpoint);
    if (!precision)
      return precision.takeError();
    cuda.bf16Attention = *precision == AttentionPrecision::BF16;
    if (toolkit->hasPtxas && options.emit != EmitStage::PTX)
      cuda.cubinToolkit = toolkit->root;
    buildCudaLoweringPipeline(lower, cuda);
  } else {
    buildHostLoweringPipeline(lower);
  }
  if (Error e = runPipeline(lower, **module, "host lowering"))
    return e;
  if (options.emit == EmitStage::LLVMDialect)
    return writeText(options.output, **module);
  if (options.emit == EmitStage::PTX)
    return writeKernelPTX(options.output, **module);

  llamac_model_info info =
      modelInfo(**module, options, *ctxSize, prefillChunk, *longChunk,
                candidates, layout->totalBytes);
  ObjectOptions objectOptions;
  objectOptions.cpu = options.cpu;
  if (options.emit == EmitStage::Object)
    return emitHostObject(**module, info, options.output, objectOptions);

  // The object goes to a temporary file unless it is what was asked for.
  auto object = temporaryFile("llamac-model", "o");
  if (!object)
    return object.takeError();
  llvm::scope_exit removeObject([&] { llvm::sys::fs::remove(*object); });
  if (options.emit == EmitStage::LLVMIR) {
    objectOptions.llvmIRPath = options.output;
    return emitHostObject(**module, info, *object, objectOptions);
  }
  auto runtimeLibDir = findRuntimeLibDir(argv0);
  if (!runtimeLibDir)
    return runtimeLibDir.takeError();
  if (Error e = emitHostObject(**module, info, *object, objectOptions))
    return e;
  // A half-written executable (no payload) must not be left behind.
  Error result = linkExecutable(*object, options.output, *runtimeLibDir,
                                options.linker);
  if (!result)
    result = writePayload(options, **checkpoint, *layout, tokenizer);
  if (result) {
    llvm::sys::fs::remove(options.output);
    llvm::sys::fs::remove(options.output + ".weights");
  }
  return result;
}
