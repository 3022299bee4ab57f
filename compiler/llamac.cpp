//===- llamac.cpp - the llamac driver ---------------------------*- C++ -*-===//
//
//   llamac import DIR -o model.mlir   Hugging Face checkpoint -> llama dialect
//
// Every failure ends in one line "llamac: error: ..." and exit status 1.
//
//===----------------------------------------------------------------------===//
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
  options.seqLen = importSeqLen;
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
  WithColor::error(errs(), "llamac")
      << "no command given; try 'llamac import DIR -o model.mlir' or "
         "'llamac --help'\n";
  return 1;
}
