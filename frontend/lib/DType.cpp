//===- DType.cpp - element types of checkpoint tensors ----------*- C++ -*-===//
#include "llamac/frontend/DType.h"

#include "llvm/Support/ErrorHandling.h"


using namespace llamac;

namespace {
struct DTypeInfo {
  DType dtype;
  const char *name;
  unsigned size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::Bool, "BOOL", 1},  {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},      {DType::F8E4M3, "F8_E4M3", 1},
    {DType::F8E5M2, "F8_E5M2", 1}, {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},  {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},    {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},    {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
};
const DTypeInfo &info(DType dtype) {
  for (const DTypeInfo &entry : kDTypes)
    if (entry.dtype == dtype)
      return entry;
  llvm_unreachable("every DType has an entry");
}
} // namespace

std::optional<DType> llamac::parseDType(llvm::StringRef name) {
  for (const DTypeInfo &entry : kDTypes)
    if (name == entry.name)
      return entry.dtype;
  return std::nullopt;
}

llvm::StringRef llamac::dtypeName(DType dtype) { return info(dtype).name; }

unsigned llamac::dtypeSize(DType dtype) { return info(dtype).size; }
