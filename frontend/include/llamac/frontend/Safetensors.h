//===- Safetensors.h - safetensors header reader and mmapped file -*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON describing each tensor (dtype, shape, data_offsets), then the data.
// The header is validated completely before any tensor is handed out, so
// later stages may trust offsets and sizes.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_SAFETENSORS_H
#define LLAMAC_FRONTEND_SAFETENSORS_H

#include "llamac/frontend/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include <memory>
#include <string>
#include <vector>

namespace llamac {

struct TensorInfo {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  uint64_t offset; ///< From the start of the file, header included.
  uint64_t size;   ///< In bytes; equals product(shape) * dtypeSize(dtype).

  int64_t numElements() const;
};

/// The parsed and validated header of one safetensors file.
struct SafetensorsHeader {
  std::vector<TensorInfo> tensors; ///< In order of data offset.
  llvm::StringMap<std::string> metadata;
  llvm::StringMap<size_t> index; ///< name -> position in `tensors`.

  const TensorInfo *find(llvm::StringRef name) const;
};

/// Parses the header of a whole safetensors file held in `file`. `path` only
/// names the file in error messages. Every error is one line.
llvm::Expected<SafetensorsHeader>
parseSafetensorsHeader(llvm::ArrayRef<uint8_t> file, llvm::StringRef path);

/// A safetensors file mapped read-only into memory.
class SafetensorsFile {
public:
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);

  llvm::StringRef path() const { return path_; }
  const SafetensorsHeader &header() const { return header_; }
  /// The tensor's bytes, inside the mapping.
  llvm::ArrayRef<uint8_t> data(const TensorInfo &tensor) const;

private:
  SafetensorsFile(std::string path, llvm::sys::fs::mapped_file_region region,
                  SafetensorsHeader header);

  std::string path_;
  llvm::sys::fs::mapped_file_region region_;
  SafetensorsHeader header_;
};

} // namespace llamac

#endif // LLAMAC_FRONTEND_SAFETENSORS_H
