//===- llamac.cpp - the llamac driver ---------------------------*- C++ -*-===//
//
//   llamac import DIR -o model.mlir   Hugging Face checkpoint -> llama dialect
//   llamac compile DIR --target host -o EXE
//                                     checkpoint -> standalone executable
//
// Every failure ends in one line "llamac: error: ..." and exit status 1.
//
//===----------------------------------------------------------------------===//
#include "llamac/compiler/Compile.h"
#include "llamac/frontend/Importer.h"

#include "llama/LlamaDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
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
                                   cl::desc("Target: host (default)"),
                                   cl::init("host"), cl::sub(compileCommand),
                                   cl::cat(llamacCategory));
cl::opt<llamac::EmitStage> compileEmit(
    "emit", cl::desc("Stop after a stage and write it to -o"),
    cl::values(clEnumValN(llamac::EmitStage::Llama, "llama",
                          "the imported llama dialect"),
               clEnumValN(llamac::EmitStage::LLVMDialect, "mlir-llvm",
                          "the LLVM dialect after the pass pipeline"),
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
    cl::desc("Prompt tokens per prefill call (default 16, or the context "
             "size if smaller)"),
    cl::init(0), cl::sub(compileCommand), cl::cat(llamacCategory));
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
  options.weights = compileWeights;
  options.printIRAfterAll = compilePrintIR;
  options.dumpIRDir = compileDumpIR;
  options.linker = compileLinker;
  options.cpu = compileCpu;
  if (Error e = llamac::compile(options, argv0))
    return fail(std::move(e));
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM initLLVM(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
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
  WithColor::error(errs(), "llamac")
      << "no command given; try 'llamac compile DIR -o EXE', "
         "'llamac import DIR -o model.mlir' or 'llamac --help'\n";
  return 1;
}
