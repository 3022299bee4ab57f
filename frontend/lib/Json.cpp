//===- Json.cpp - JSON parsing with one-line errors -------------*- C++ -*-===//
#include "llamac/frontend/Json.h"


using namespace llamac;

namespace {
/// Drops nlohmann's "[json.exception.parse_error.101] " prefix.
std::string plainMessage(const char *what) {
  llvm::StringRef message(what);
  if (message.starts_with("[json.exception.")) {
    size_t close = message.find("] ");
    if (close != llvm::StringRef::npos)
      message = message.drop_front(close + 2);
  }
  return message.str();
}
} // namespace

llvm::Expected<nlohmann::json> llamac::parseJson(llvm::StringRef text,
                                                 llvm::StringRef path,
                                                 llvm::StringRef what) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception &e) {
    std::string subject = what.empty() ? std::string("not valid JSON: ")
                                       : (what + " is not valid JSON: ").str();
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + subject +
                                       plainMessage(e.what()));
  }
}

std::string llamac::describeJson(const nlohmann::json &value) {
  if (value.is_array())
    return "a JSON array";
  if (value.is_object())
    return "a JSON object";
  // `replace` keeps invalid UTF-8 from throwing.
  return value.dump(-1, ' ', /*ensure_ascii=*/false,
                    nlohmann::json::error_handler_t::replace);
}

std::string llamac::jsonQuoted(llvm::StringRef text) {
  return describeJson(nlohmann::json(text.str()));
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
llamac::readSmallFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   path + ": " + buffer.getError().message());
  return std::move(*buffer);
}

llvm::Expected<nlohmann::json> llamac::readJsonFile(llvm::StringRef path,
                                                    llvm::StringRef what) {
  auto buffer = readSmallFile(path);
  if (!buffer)
    return buffer.takeError();
  return parseJson((*buffer)->getBuffer(), path, what);
}
