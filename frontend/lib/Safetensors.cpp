//===- Safetensors.cpp - safetensors header reader ---------------*- C++ -*-===//
//
// Validation follows the reference implementation (huggingface/safetensors):
// header at most 100 MB, tensors contiguous from the start of the data
// section to its end, and each byte range exactly dtype size x element count.
//
//===----------------------------------------------------------------------===//
#include "llamac/frontend/Safetensors.h"
#include "llamac/frontend/Json.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"

#include <algorithm>
#include <tuple>

using namespace llamac;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

Error headerError(StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

/// Reads one tensor entry of the header, checking types and the dtype.
Expected<TensorInfo> parseEntry(StringRef path, const std::string &name,
                                const nlohmann::json &entry) {
  auto bad = [&](const llvm::Twine &what) {
    return headerError(path, "tensor " + jsonQuoted(name) + ": " + what);
  };
  if (!entry.is_object())
    return bad("header entry is not a JSON object");
  auto dtypeIt = entry.find("dtype");
  auto shapeIt = entry.find("shape");
  auto offsetsIt = entry.find("data_offsets");
  if (dtypeIt == entry.end() || !dtypeIt->is_string())
    return bad("missing or non-string \"dtype\"");
  if (shapeIt == entry.end() || !shapeIt->is_array())
    return bad("missing or non-array \"shape\"");
  if (offsetsIt == entry.end() || !offsetsIt->is_array() ||
      offsetsIt->size() != 2 || !(*offsetsIt)[0].is_number_unsigned() ||
      !(*offsetsIt)[1].is_number_unsigned())
    return bad("\"data_offsets\" must be two non-negative integers");

  TensorInfo info;
  info.name = name;
  std::string dtype = dtypeIt->get<std::string>();
  std::optional<DType> parsed = parseDType(dtype);
  if (!parsed)
    return bad("unknown dtype " + jsonQuoted(dtype));
  info.dtype = *parsed;

  // Element counts are bounded so that product * dtype size cannot overflow.
  constexpr uint64_t kMaxElements = uint64_t(1) << 56;
  uint64_t elements = 1;
  for (const nlohmann::json &dim : *shapeIt) {
    if (!dim.is_number_unsigned())
      return bad("shape dims must be non-negative integers");
    uint64_t d = dim.get<uint64_t>();
    // Each dim is bounded on its own too: after a zero dim the product stays
    // zero and would let any later dim through.
    if (d > kMaxElements || (d != 0 && elements > kMaxElements / d))
      return bad("shape has more than 2^56 elements");
    elements *= d;
    info.shape.push_back(static_cast<int64_t>(d));
  }
  uint64_t begin = (*offsetsIt)[0].get<uint64_t>();
  uint64_t end = (*offsetsIt)[1].get<uint64_t>();
  if (end < begin)
    return bad(llvm::formatv("data_offsets [{0}, {1}] end before they begin",
                             begin, end));
  uint64_t expected = elements * dtypeSize(info.dtype);
  if (end - begin != expected)
    return bad(llvm::formatv("data_offsets [{0}, {1}] span {2} bytes but {3} "
                             "x {4} elements need {5}",
                             begin, end, end - begin, dtype, elements,
                             expected));
  info.offset = begin; // made absolute once the header size is known
  info.size = expected;
  return info;
}
} // namespace

int64_t TensorInfo::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

const TensorInfo *SafetensorsHeader::find(StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

Expected<SafetensorsHeader>
llamac::parseSafetensorsHeader(llvm::ArrayRef<uint8_t> file, StringRef path) {
  if (file.size() < 8)
    return headerError(path, llvm::formatv("file is {0} bytes, too short for "
                                           "the 8-byte safetensors header "
                                           "length",
                                           file.size()));
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = (headerBytes << 8) | file[i];
  if (headerBytes > kMaxHeaderBytes)
    return headerError(path, llvm::formatv("safetensors header length {0} "
                                           "exceeds the 100 MB limit",
                                           headerBytes));
  if (headerBytes > file.size() - 8)
    return headerError(path, llvm::formatv("safetensors header length {0} "
                                           "runs past the end of the file "
                                           "({1} bytes)",
                                           headerBytes, file.size()));
  StringRef text(reinterpret_cast<const char *>(file.data()) + 8, headerBytes);
  Expected<nlohmann::json> json = parseJson(text, path, "safetensors header");
  if (!json)
    return json.takeError();
  if (!json->is_object())
    return headerError(path, "safetensors header is not a JSON object");

  SafetensorsHeader header;
  for (auto &[key, value] : json->items()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        return headerError(path, "\"__metadata__\" is not a JSON object");
      for (auto &[mkey, mvalue] : value.items()) {
        if (!mvalue.is_string())
          return headerError(path, "\"__metadata__\" value for " +
                                       jsonQuoted(mkey) + " is not a string");
        header.metadata[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    Expected<TensorInfo> info = parseEntry(path, key, value);
    if (!info)
      return info.takeError();
    header.tensors.push_back(std::move(*info));
  }

  // The byte ranges must tile the data section exactly, as the reference
  // reader demands: no overlap, no gap, nothing past the end.
  // (Names break ties, so that the error for two tensors at one offset
  // does not depend on the sort.)
  llvm::sort(header.tensors, [](const TensorInfo &a, const TensorInfo &b) {
    return std::tie(a.offset, a.size, a.name) <
           std::tie(b.offset, b.size, b.name);
  });
  uint64_t dataBytes = file.size() - 8 - headerBytes;
  uint64_t cursor = 0;
  for (TensorInfo &tensor : header.tensors) {
    if (tensor.offset != cursor)
      return headerError(
          path, llvm::formatv("tensor {0} starts at data offset {1} but the "
                              "previous tensor ends at {2} (overlap or gap)",
                              jsonQuoted(tensor.name), tensor.offset, cursor));
    cursor += tensor.size;
    if (cursor > dataBytes)
      return headerError(
          path, llvm::formatv("tensor {0} ends at data offset {1}, past the "
                              "end of the file's {2} data bytes (truncated "
                              "file?)",
                              jsonQuoted(tensor.name), cursor, dataBytes));
    tensor.offset += 8 + headerBytes;
  }
  if (cursor != dataBytes)
    return headerError(path, llvm::formatv("{0} bytes after the last tensor "
                                           "are not described by the header",
                                           dataBytes - cursor));
  for (size_t i = 0; i < header.tensors.size(); ++i)
    header.index[header.tensors[i].name] = i;
  return header;
}

SafetensorsFile::SafetensorsFile(std::string path,
                                 llvm::sys::fs::mapped_file_region region,
                                 SafetensorsHeader header)
    : path_(std::move(path)), region_(std::move(region)),
      header_(std::move(header)) {}

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  auto ioError = [&](std::error_code ec) {
    return headerError(path, ec.message());
  };
  int fd;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(path, fd))
    return ioError(ec);
  llvm::scope_exit closeFd(
      [&] { llvm::sys::Process::SafelyCloseFileDescriptor(fd); });
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(fd, status))
    return ioError(ec);
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return headerError(path, "not a regular file");
  uint64_t size = status.getSize();
  if (size < 8)
    return headerError(path, llvm::formatv("file is {0} bytes, too short for "
                                           "the 8-byte safetensors header "
                                           "length",
                                           size));
  std::error_code ec;
  llvm::sys::fs::mapped_file_region region(
      llvm::sys::fs::convertFDToNativeFile(fd),
      llvm::sys::fs::mapped_file_region::readonly, size, 0, ec);
  if (ec)
    return headerError(path, "cannot mmap: " + ec.message());
  llvm::ArrayRef<uint8_t> bytes(
      reinterpret_cast<const uint8_t *>(region.const_data()), size);
  Expected<SafetensorsHeader> header = parseSafetensorsHeader(bytes, path);
  if (!header)
    return header.takeError();
  return std::unique_ptr<SafetensorsFile>(
      new SafetensorsFile(path.str(), std::move(region), std::move(*header)));
}

llvm::ArrayRef<uint8_t> SafetensorsFile::data(const TensorInfo &tensor) const {
  return {reinterpret_cast<const uint8_t *>(region_.const_data()) +
              tensor.offset,
          tensor.size};
}
