//===- Json.h - JSON parsing with one-line errors ---------------*- C++ -*-===//
//
// nlohmann::json reports errors by exception; the rest of llamac uses
// llvm::Error. This is the one place that converts between the two.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_FRONTEND_JSON_H
#define LLAMAC_FRONTEND_JSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>

namespace llamac {

/// Parses `text`; on a syntax error returns "PATH: WHAT is not valid JSON:
/// parse error at line L, column C: ..." ("PATH: not valid JSON: ..." when
/// `what` is empty).
llvm::Expected<nlohmann::json> parseJson(llvm::StringRef text,
                                         llvm::StringRef path,
                                         llvm::StringRef what);

/// A JSON value for an error message, on one line: scalars as JSON text
/// (strings quoted, control characters escaped), arrays and objects by kind
/// only, since printing them recurses once per nesting level.
std::string describeJson(const nlohmann::json &value);

/// `text` as a quoted JSON string, so that names read from a file cannot
/// break an error message over several lines.
std::string jsonQuoted(llvm::StringRef text);

/// Reads a small text file whole (config, index, tokenizer JSON); weights are
/// mmapped instead, see SafetensorsFile.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readSmallFile(llvm::StringRef path);

/// Reads and parses a small JSON file (config, index); not for weights.
llvm::Expected<nlohmann::json> readJsonFile(llvm::StringRef path,
                                            llvm::StringRef what);

} // namespace llamac

#endif // LLAMAC_FRONTEND_JSON_H
