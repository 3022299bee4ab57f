//===- IRDump.h - the IR after every pass, to files or stderr ---*- C++ -*-===//
#ifndef LLAMAC_COMPILER_IRDUMP_H
#define LLAMAC_COMPILER_IRDUMP_H

#include "mlir/Pass/PassManager.h"

#include <memory>
#include <string>

namespace llamac {

/// Writes the IR after each pass as DIR/NN-<pass-argument>.mlir, numbered in
/// pipeline order across every PassManager it is attached to (the counter
/// lives in the returned state, which must outlive the runs).
class IRDumpDirectory {
public:
  explicit IRDumpDirectory(std::string dir) : dir_(std::move(dir)) {}

  /// Writes `module` as the next numbered file named after `stage`
  /// (the imported IR, before any pass, is stage "import").
  llvm::Error dumpStage(llvm::StringRef stage, mlir::Operation *module);
  /// Attaches to `pm` so that each pass's result is dumped.
  void attach(mlir::PassManager &pm);

  llvm::Error createDirectory() const;
  const std::string &dir() const { return dir_; }

private:
  friend class DumpConfig;
  std::string nextPath(llvm::StringRef stage);

  std::string dir_;
  unsigned counter_ = 0;
};

} // namespace llamac

#endif // LLAMAC_COMPILER_IRDUMP_H
