//===- DType.h - element types of checkpoint tensors ------------*- C++ -*-===//
//
// The dtypes a safetensors header may name. The header reader knows all of
// them (to validate sizes); the importer decides which ones it supports.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_DTYPE_H
#define LLAMAC_FRONTEND_DTYPE_H

#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>

namespace llamac {

enum class DType { Bool, U8, I8, F8E4M3, F8E5M2, I16, U16, F16, BF16,
                   I32, U32, F32, F64, I64, U64 };

/// The dtype spelled as in a safetensors header ("BF16"), if known.
std::optional<DType> parseDType(llvm::StringRef name);
/// The safetensors spelling.
llvm::StringRef dtypeName(DType dtype);
/// Bytes per element.
unsigned dtypeSize(DType dtype);

} // namespace llamac

#endif // LLAMAC_FRONTEND_DTYPE_H
