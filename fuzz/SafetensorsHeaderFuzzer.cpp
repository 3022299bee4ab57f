//===- SafetensorsHeaderFuzzer.cpp - fuzz parseSafetensorsHeader ----------===//
//
// Fuzzes llamac::parseSafetensorsHeader with whole safetensors files (8-byte
// length, JSON header, data). Rejected inputs must come back as an llvm::Error;
// an accepted header must satisfy every promise of the validated header.
//
//===----------------------------------------------------------------------===//
#include "FuzzCheck.h"
#include "llamac/frontend/Safetensors.h"

#include <cstddef>
#include <cstdint>

using namespace llamac;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::ArrayRef<uint8_t> file(data, size);
  llvm::Expected<SafetensorsHeader> header =
      parseSafetensorsHeader(file, "fuzz.safetensors");
  if (!header) {
    llvm::consumeError(header.takeError());
    return 0;
  }

  // Accepted, so the file has the 8-byte length and the whole JSON header.
  FUZZ_CHECK(size >= 8);
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = (headerBytes << 8) | data[i];
  FUZZ_CHECK(headerBytes <= size - 8);
  const uint64_t dataStart = 8 + headerBytes;

  uint64_t previousEnd = dataStart;
  for (size_t i = 0; i < header->tensors.size(); ++i) {
    const TensorInfo &tensor = header->tensors[i];
    // Inside the data section of the input, without wrapping around.
    FUZZ_CHECK(tensor.offset >= dataStart);
    FUZZ_CHECK(tensor.offset <= size && tensor.size <= size - tensor.offset);
    // In order of offset and not overlapping the previous tensor.
    FUZZ_CHECK(tensor.offset >= previousEnd);
    previousEnd = tensor.offset + tensor.size;
    // Shapes are real extents (a negative dim would also be MLIR's
    // ShapedType::kDynamic), and the byte size matches them.
    for (int64_t dim : tensor.shape)
      FUZZ_CHECK(dim >= 0);
    int64_t elements = tensor.numElements();
    FUZZ_CHECK(elements >= 0);
    FUZZ_CHECK(tensor.size == uint64_t(elements) * dtypeSize(tensor.dtype));
    // The dtype round-trips through its safetensors spelling.
    FUZZ_CHECK(parseDType(dtypeName(tensor.dtype)) == tensor.dtype);
    // The name index points back at this tensor.
    FUZZ_CHECK(header->find(tensor.name) == &tensor);
  }
  FUZZ_CHECK(header->index.size() == header->tensors.size());
  // The tensors tile the data section exactly (as the reference reader
  // demands), so the last one ends at the end of the file.
  FUZZ_CHECK(previousEnd == size);
  return 0;
}
