//===- IRDump.cpp - the IR after every pass, to files -----------*- C++ -*-===//
#include "llamac/compiler/IRDump.h"

#include "mlir/IR/Operation.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llamac;

namespace llamac {
/// MLIR's IR printing hook, redirected to one numbered file per pass.
class DumpConfig : public mlir::PassManager::IRPrinterConfig {
public:
  explicit DumpConfig(IRDumpDirectory &dump)
      : IRPrinterConfig(/*printModuleScope=*/true), dump_(dump) {}

  void printAfterIfEnabled(mlir::Pass *pass, mlir::Operation *,
                           PrintCallbackFn printCallback) final {
    std::string path = dump_.nextPath(pass->getArgument().empty()
                                          ? pass->getName()
                                          : pass->getArgument());
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      llvm::errs() << "llamac: warning: cannot write " << path << ": "
                   << ec.message() << "\n";
      return;
    }
    printCallback(os);
  }

private:
  IRDumpDirectory &dump_;
};
} // namespace llamac

std::string IRDumpDirectory::nextPath(llvm::StringRef stage) {
  llvm::SmallString<256> path(dir_);
  llvm::sys::path::append(path, llvm::formatv("{0:d2}-{1}.mlir", counter_++,
                                              stage)
                                    .str());
  return std::string(path);
}

llvm::Error IRDumpDirectory::createDirectory() const {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir_))
    return llvm::createStringError(ec, "--dump-ir " + dir_ + ": " +
                                           ec.message());
  return llvm::Error::success();
}

llvm::Error IRDumpDirectory::dumpStage(llvm::StringRef stage,
                                       mlir::Operation *module) {
  std::string path = nextPath(stage);
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError(ec, path + ": " + ec.message());
  module->print(os);
  return llvm::Error::success();
}

void IRDumpDirectory::attach(mlir::PassManager &pm) {
  pm.enableIRPrinting(std::make_unique<DumpConfig>(*this));
}
