//===- llamac.cpp - the llamac driver ---------------------------*- C++ -*-===//
//
//   llamac import DIR -o model.mlir   Hugging Face checkpoint -> llama dialect
//   llamac compile DIR --target host -o EXE
//                                     checkpoint -> standalone executable
//   llamac tokenize DIR -p TEXT       the ids the executable would see (as
//                                     llama.cpp's llama-tokenize)
//
// Every failure ends in one line "llamac: error: ..." and exit status 1.
//
//===----------------------------------------------------------------------===//
#include "llamac/compiler/Compile.h"
#include "llamac/compiler/TokenizerSection.h"
#include "llamac/frontend/HFConfig.h"
#include "llamac/frontend/Json.h"
#include "llamac/frontend/Importer.h"

#include "llama/LlamaDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llamac/runtime/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

namespace {
cl::OptionCategory llamacCategory("llamac options");

cl::SubCommand importCommand("import",
                             "Import a Hugging Face LLaMA checkpoint directory "
                             "into the llama dialect");
cl::opt<std::string> importDir(cl::Positional, cl::Required,
                               cl::desc("<checkpoint dir>"),
                               cl::sub(importCommand));
cl::opt<std::string> importOutput("o", cl::desc("Output file (default: stdout)"),
                                  cl::value_desc("file"), cl::init("-"),
                                  cl::sub(importCommand),
                                  cl::cat(llamacCategory));
cl::opt<int64_t> importBatch("batch",
                             cl::desc("Sequences per forward call (default 1)"),
                             cl::init(1), cl::sub(importCommand),
                             cl::cat(llamacCategory));
cl::opt<int64_t> importSeqLen(
    "seq-len", cl::desc("Tokens per sequence per forward call (default 1)"),
    cl::init(1), cl::sub(importCommand), cl::cat(llamacCategory));
cl::opt<int64_t> importCtxSize(
    "ctx-size",
    cl::desc("KV-cache length in tokens (default: max_position_embeddings, "
             "at most 4096)"),
    cl::init(0), cl::sub(importCommand), cl::cat(llamacCategory));

cl::SubCommand compileCommand(
    "compile", "Compile a Hugging Face LLaMA checkpoint directory into a "
               "standalone executable");
cl::opt<std::string> compileDir(cl::Positional, cl::Required,
                                cl::desc("<checkpoint dir>"),
                                cl::sub(compileCommand));
cl::opt<std::string> compileOutput("o", cl::Required,
                                   cl::desc("Output executable"),
                                   cl::value_desc("file"),
                                   cl::sub(compileCommand),
                                   cl::cat(llamacCategory));
cl::opt<std::string> compileTarget("target",
                                   cl::desc("Target: host (default), or an "
                                            "NVIDIA GPU: sm_80, sm_86, sm_89, "
                                            "sm_90"),
                                   cl::init("host"), cl::sub(compileCommand),
                                   cl::cat(llamacCategory));
cl::opt<llamac::EmitStage> compileEmit(
    "emit", cl::desc("Stop after a stage and write it to -o"),
    cl::values(clEnumValN(llamac::EmitStage::Llama, "llama",
                          "the imported llama dialect"),
               clEnumValN(llamac::EmitStage::LLVMDialect, "mlir-llvm",
                          "the LLVM dialect after the pass pipeline"),
               clEnumValN(llamac::EmitStage::PTX, "ptx",
                          "the kernels' PTX (CUDA targets)"),
               clEnumValN(llamac::EmitStage::LLVMIR, "llvm",
                          "optimized LLVM IR"),
               clEnumValN(llamac::EmitStage::Object, "obj",
                          "the model's object file"),
               clEnumValN(llamac::EmitStage::Executable, "exe",
                          "the standalone executable (default)")),
    cl::init(llamac::EmitStage::Executable), cl::sub(compileCommand),
    cl::cat(llamacCategory));
cl::opt<int64_t> compileCtxSize(
    "ctx-size",
    cl::desc("Maximum context in tokens (default: max_position_embeddings, "
             "at most 4096)"),
    cl::init(0), cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<int64_t> compilePrefillChunk(
    "prefill-chunk",
    cl::desc("Prompt tokens per prefill call (default 16 for the host, "
             "512 for a GPU, or the context size if smaller)"),
    cl::init(0), cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<int64_t> compileLongPrefillChunk(
    "long-prefill-chunk",
    cl::desc("Tokens per call of a second prefill entry, taken while the "
             "prompt's rest fills it (0: none; default 2048 for a GPU where "
             "it exceeds --prefill-chunk and fits in the context, without "
             "--logits-all; none for the host)"),
    cl::init(0), cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<int64_t> compileSamplingCandidates(
    "sampling-candidates",
    cl::desc("Each row's k best (logit, id) pairs, which the model draws "
             "the next token from where --top-k is at most k (other top-k "
             "draw from the whole row; default 64 for a GPU, 1 for the "
             "host; at most the vocabulary size)"),
    cl::init(0), cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<bool> compileLogitsAll(
    "logits-all",
    cl::desc("Prefill computes the logits of every prompt token, so that "
             "--logits-out gets them from the prompt's chunks (default: the "
             "last token's only; --logits-out then runs the prompt a token "
             "at a time)"),
    cl::init(false), cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<llamac::GemmPrecision> compileGemmPrecision(
    "gemm-precision",
    cl::desc("GPU targets: the activations' precision in the linear "
             "layers with bf16 weights"),
    cl::values(clEnumValN(llamac::GemmPrecision::BF16, "bf16",
                          "rounded to bf16 (one mma a tile; decode's GEMVs "
                          "read half the bytes), as PyTorch and llama.cpp "
                          "(default)"),
               clEnumValN(llamac::GemmPrecision::F32, "f32",
                          "prefill: kept to ~16 bits as two bf16 terms (2x "
                          "the tensor-core work); decode: f32")),
    cl::init(llamac::GemmPrecision::BF16), cl::sub(compileCommand),
    cl::cat(llamacCategory));
cl::opt<bool> compileTma(
    "tma",
    cl::desc("sm_90: the prefill GEMMs' tiles loaded by the tensor memory "
             "accelerator, issued by a producer warp (experimental: the same "
             "results as without, no faster on an H200)"),
    cl::Hidden, cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<llamac::AttentionPrecision> compileAttentionPrecision(
    "attention-precision",
    cl::desc("GPU targets: prefill attention's products (QK^T, PV; the KV "
             "cache and the softmax stay f32)"),
    cl::values(clEnumValN(llamac::AttentionPrecision::BF16, "bf16",
                          "Q, K, the probabilities and V rounded to bf16, as "
                          "PyTorch's sdpa (default for bf16 checkpoints, "
                          "unless --gemm-precision f32)"),
               clEnumValN(llamac::AttentionPrecision::F32, "f32",
                          "tf32 hi + lo terms, ~f32 (default otherwise; "
                          "three times the tensor-core work)")),
    cl::init(llamac::AttentionPrecision::BF16), cl::sub(compileCommand),
    cl::cat(llamacCategory));
cl::opt<llamac::WeightsPlacement> compileWeights(
    "weights", cl::desc("Where the weights go"),
    cl::values(clEnumValN(llamac::WeightsPlacement::Auto, "auto",
                          "embedded up to 2 GiB, else a sidecar (default)"),
               clEnumValN(llamac::WeightsPlacement::Embed, "embed",
                          "appended to the executable"),
               clEnumValN(llamac::WeightsPlacement::Sidecar, "sidecar",
                          "in EXE.weights, mmapped at run time")),
    cl::init(llamac::WeightsPlacement::Auto), cl::sub(compileCommand),
    cl::cat(llamacCategory));
cl::opt<bool> compilePrintIR("print-ir-after-all",
                             cl::desc("Print the IR after every pass"),
                             cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<std::string> compileDumpIR(
    "dump-ir", cl::desc("Write the IR after every pass to DIR/NN-pass.mlir"),
    cl::value_desc("dir"), cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<std::string> compileLinker(
    "linker", cl::desc("C++ driver to link with (default: $LLAMAC_LINKER, "
                       "clang++-22, clang++, g++ or c++)"),
    cl::sub(compileCommand), cl::cat(llamacCategory));
cl::opt<std::string> compileCpu(
    "cpu", cl::desc("Host CPU to generate code for (default: native)"),
    cl::init("native"), cl::sub(compileCommand), cl::cat(llamacCategory));

cl::SubCommand tokenizeCommand(
    "tokenize", "Print the token ids of a text under a checkpoint's "
                "tokenizer, as the compiled executable encodes -p");
cl::opt<std::string> tokenizeDir(cl::Positional, cl::Required,
                                 cl::desc("<checkpoint dir>"),
                                 cl::sub(tokenizeCommand));
cl::opt<std::string> tokenizePrompt("p", cl::desc("The text to tokenize"),
                                    cl::value_desc("text"),
                                    cl::sub(tokenizeCommand),
                                    cl::cat(llamacCategory));
cl::alias tokenizePromptLong("prompt", cl::aliasopt(tokenizePrompt));
cl::opt<std::string> tokenizeFile("f",
                                  cl::desc("Read the text from a file"),
                                  cl::value_desc("file"),
                                  cl::sub(tokenizeCommand),
                                  cl::cat(llamacCategory));
cl::alias tokenizeFileLong("file", cl::aliasopt(tokenizeFile));
cl::opt<bool> tokenizeIds("ids",
                          cl::desc("Print only the ids, as [1, 2, 3]"),
                          cl::sub(tokenizeCommand), cl::cat(llamacCategory));
cl::opt<bool> tokenizeNoBos("no-bos", cl::desc("Do not put BOS first"),
                            cl::sub(tokenizeCommand),
                            cl::cat(llamacCategory));
cl::opt<std::string> tokenizeTextsJson(
    "texts-json",
    cl::desc("Tokenize each string of a JSON list in FILE; print a JSON list "
             "of id lists (for tests)"),
    cl::value_desc("file"), cl::sub(tokenizeCommand), cl::cat(llamacCategory));
cl::opt<std::string> tokenizeDecode(
    "decode", cl::desc("Print the text of comma-separated ids instead"),
    cl::value_desc("ids"), cl::sub(tokenizeCommand), cl::cat(llamacCategory));

int fail(Error error) {
  std::string message = toString(std::move(error));
  WithColor::error(errs(), "llamac") << message << "\n";
  return 1;
}

int runImport() {
  Expected<std::unique_ptr<llamac::Checkpoint>> checkpoint =
      llamac::Checkpoint::open(importDir);
  if (!checkpoint)
    return fail(checkpoint.takeError());
  mlir::MLIRContext context;
  llamac::ImportOptions options;
  options.batch = importBatch;
  options.entryPoints = {{"forward", importSeqLen}};
  options.ctxSize = importCtxSize;
  auto module = llamac::importCheckpoint(context, **checkpoint, options);
  if (!module)
    return fail(module.takeError());
  std::error_code ec;
  ToolOutputFile output(importOutput, ec, sys::fs::OF_Text);
  if (ec)
    return fail(createStringError(ec, importOutput + ": " + ec.message()));
  (*module)->print(output.os(), mlir::OpPrintingFlags());
  output.keep();
  return 0;
}
int runCompile(const char *argv0) {
  llamac::CompileOptions options;
  options.checkpointDir = compileDir;
  options.output = compileOutput;
  options.target = compileTarget;
  options.emit = compileEmit;
  options.ctxSize = compileCtxSize;
  if (compilePrefillChunk.getNumOccurrences())
    options.prefillChunk = compilePrefillChunk;
  if (compileLongPrefillChunk.getNumOccurrences())
    options.longPrefillChunk = compileLongPrefillChunk;
  if (compileSamplingCandidates.getNumOccurrences())
    options.samplingCandidates = compileSamplingCandidates;
  if (compileGemmPrecision.getNumOccurrences())
    options.gemmPrecision = compileGemmPrecision;
  options.logitsAll = compileLogitsAll;
  options.tma = compileTma;
  if (compileAttentionPrecision.getNumOccurrences())
    options.attentionPrecision = compileAttentionPrecision;
  options.weights = compileWeights;
  options.printIRAfterAll = compilePrintIR;
  options.dumpIRDir = compileDumpIR;
  options.linker = compileLinker;
  options.cpu = compileCpu;
  if (Error e = llamac::compile(options, argv0))
    return fail(std::move(e));
  return 0;
}
Error tokenizeError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

int runTokenize() {
  int sources = (tokenizePrompt.getNumOccurrences() > 0) +
                (tokenizeFile.getNumOccurrences() > 0) +
                (tokenizeTextsJson.getNumOccurrences() > 0) +
                (tokenizeDecode.getNumOccurrences() > 0);
  if (sources != 1)
    return fail(tokenizeError("tokenize takes one of -p TEXT, -f FILE, "
                              "--texts-json FILE and --decode IDS"));
  auto section = llamac::readTokenizerSection(tokenizeDir);
  if (!section)
    return fail(section.takeError());
  if (!*section)
    return fail(tokenizeError(tokenizeDir + ": the checkpoint has no "
                                            "tokenizer.model or "
                                            "tokenizer.json"));
  auto tokenizer = llamac::loadTokenizerSection(**section);
  if (!tokenizer)
    return fail(tokenizer.takeError());
  llamac::rt::Tokenizer &tok = **tokenizer;
  // BOS as the executable puts it first: config.json's, where there is one.
  if (sys::fs::exists(tokenizeDir + "/config.json")) {
    auto config = llamac::readLlamaConfig(tokenizeDir);
    if (!config)
      return fail(config.takeError());
    tok.setBosId(static_cast<int32_t>(config->bosTokenId));
  }

  if (tokenizeDecode.getNumOccurrences()) {
    std::vector<int32_t> ids;
    SmallVector<StringRef> fields;
    StringRef(tokenizeDecode).split(fields, ',');
    for (StringRef field : fields) {
      int32_t id = 0;
      if (field.trim().getAsInteger(10, id))
        return fail(tokenizeError("--decode: '" + field + "' is not a token id"));
      ids.push_back(id);
    }
    std::string text;
    if (llamac::rt::Status s = tok.decode(ids, text); !s.ok())
      return fail(tokenizeError(s.message()));
    outs() << text;
    return 0;
  }

  if (tokenizeTextsJson.getNumOccurrences()) {
    auto texts = llamac::readJsonFile(tokenizeTextsJson, "the texts");
    if (!texts)
      return fail(texts.takeError());
    if (!texts->is_array())
      return fail(tokenizeError(tokenizeTextsJson +
                                ": not a JSON list of strings"));
    outs() << "[";
    for (size_t i = 0; i < texts->size(); ++i) {
      if (!(*texts)[i].is_string())
        return fail(tokenizeError(tokenizeTextsJson + ": item " + Twine(i) +
                                  " is not a string"));
      std::vector<int32_t> ids;
      if (llamac::rt::Status s = tok.encode(
              (*texts)[i].get_ref<const std::string &>(), !tokenizeNoBos, ids);
          !s.ok())
        return fail(tokenizeError("item " + Twine(i) + ": " + s.message()));
      outs() << (i ? ", [" : "[");
      for (size_t j = 0; j < ids.size(); ++j)
        outs() << (j ? ", " : "") << ids[j];
      outs() << "]";
    }
    outs() << "]\n";
    return 0;
  }

  std::string text = tokenizePrompt;
  if (tokenizeFile.getNumOccurrences()) {
    auto buffer = MemoryBuffer::getFile(tokenizeFile, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
    if (!buffer)
      return fail(tokenizeError(tokenizeFile + ": " +
                                buffer.getError().message()));
    text = (*buffer)->getBuffer().str();
  }
  std::vector<int32_t> ids;
  if (llamac::rt::Status s = tok.encode(text, !tokenizeNoBos, ids); !s.ok())
    return fail(tokenizeError(s.message()));
  if (tokenizeIds) {
    outs() << "[";
    for (size_t i = 0; i < ids.size(); ++i)
      outs() << (i ? ", " : "") << ids[i];
    outs() << "]\n";
    return 0;
  }
  for (int32_t id : ids) {
    std::string piece;
    raw_string_ostream quoted(piece);
    printEscapedString(tok.tokenToPiece(id), quoted);
    outs() << format("%6d -> '", id) << piece << "'\n";
  }
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  // `llamac --help` lists the subcommands, not the ~350 options LLVM and
  // MLIR register (still accepted).
  cl::HideUnrelatedOptions(llamacCategory);
  // Flag errors, too, end in one "llamac: error:" line.
  std::string flagErrors;
  raw_string_ostream flagErrorStream(flagErrors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "llamac: ahead-of-time compiler for LLaMA-family models\n",
          &flagErrorStream)) {
    SmallVector<StringRef> lines;
    StringRef(flagErrors).trim().split(lines, '\n', -1, false);
    std::string message;
    for (StringRef line : lines) {
      line.consume_front(sys::path::filename(argv[0]));
      line.consume_front(": ");
      message += (message.empty() ? "" : " ") + line.trim().str();
    }
    // Bad flag values are reported by LLVM itself, straight to stderr.
    if (message.empty())
      return 1;
    return fail(createStringError(inconvertibleErrorCode(), message));
  }
  if (importCommand)
    return runImport();
  if (compileCommand)
    return runCompile(argv[0]);
  if (tokenizeCommand)
    return runTokenize();
  WithColor::error(errs(), "llamac")
      << "no command given; try 'llamac compile DIR -o EXE', "
         "'llamac import DIR -o model.mlir', 'llamac tokenize DIR -p TEXT' or "
         "'llamac --help'\n";
  return 1;
}
