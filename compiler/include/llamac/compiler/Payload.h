//===- Payload.h - sections appended to the executable ----------*- C++ -*-===//
//
// Writes the payload format of ModelABI.h: each section 4096-aligned from
// the start of the file, then the section table, then the trailer.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_COMPILER_PAYLOAD_H
#define LLAMAC_COMPILER_PAYLOAD_H

#include "llamac/abi/ModelABI.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <vector>

namespace llamac {

class PayloadWriter {
public:
  /// Appends to `path` (an executable just linked), or creates it when
  /// `append` is false (a sidecar file).
  static llvm::Expected<std::unique_ptr<PayloadWriter>>
  open(llvm::StringRef path, bool append);

  /// Adds a section of exactly `bytes` bytes, written by `write`.
  llvm::Error addSection(llvm::StringRef name, uint64_t bytes,
                         llvm::function_ref<llvm::Error(llvm::raw_ostream &)> write);
  /// Writes the table and the trailer, and closes the file.
  llvm::Error finish();

private:
  PayloadWriter(std::string path, std::unique_ptr<llvm::raw_fd_ostream> out)
      : path_(std::move(path)), out_(std::move(out)) {}
  llvm::Error padTo(uint64_t offset);

  std::string path_;
  std::unique_ptr<llvm::raw_fd_ostream> out_;
  std::vector<llamac_payload_section> sections_;
};

/// Writes `count` zero bytes.
void writeZeros(llvm::raw_ostream &out, uint64_t count);

} // namespace llamac

#endif // LLAMAC_COMPILER_PAYLOAD_H
