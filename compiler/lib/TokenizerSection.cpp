//===- TokenizerSection.cpp - the checkpoint's tokenizer --------*- C++ -*-===//
#include "llamac/compiler/TokenizerSection.h"

#include "llamac/frontend/HFTokenizer.h"
#include "llamac/frontend/Json.h"
#include "llamac/runtime/Tokenizer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace llamac;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Whether `bytes` starts like Meta's tiktoken-format tokenizer.model
/// (Llama 3): lines of "<base64 token bytes> <rank>".
bool looksLikeTiktoken(llvm::StringRef bytes) {
  llvm::StringRef line = bytes.split('\n').first.rtrim('\r');
  auto [token, rank] = line.split(' ');
  llvm::StringRef body = token.rtrim('=');
  return !token.empty() && token.size() % 4 == 0 &&
         token.size() - body.size() <= 2 && !rank.empty() &&
         llvm::all_of(rank, llvm::isDigit) &&
         llvm::all_of(body, [](char c) {
           return llvm::isAlnum(c) || c == '+' || c == '/';
         });
}

/// The file's bytes, or none where it does not exist.
llvm::Expected<std::optional<std::string>> readIfPresent(llvm::StringRef dir,
                                                         llvm::StringRef name) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name);
  if (!llvm::sys::fs::exists(path))
    return std::nullopt;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path.str() + ": " + buffer.getError().message());
  return std::string((*buffer)->getBuffer());
}

} // namespace

llvm::Expected<std::optional<TokenizerSection>>
llamac::readTokenizerSection(llvm::StringRef checkpointDir) {
  auto pathOf = [&](llvm::StringRef name) {
    llvm::SmallString<256> path(checkpointDir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  };
  auto model = readIfPresent(checkpointDir, "tokenizer.model");
  if (!model)
    return model.takeError();
  // A serialized ModelProto starts with its first piece (field 1,
  // length-delimited): the tag byte 0x0A, never the start of base64 text.
  if (*model && !(*model)->empty() && (*model)->front() == '\x0a')
    return TokenizerSection{"tokenizer.model", std::move(**model),
                            pathOf("tokenizer.model")};
  auto json = readIfPresent(checkpointDir, "tokenizer.json");
  if (!json)
    return json.takeError();
  if (*json) {
    std::string path = pathOf("tokenizer.json");
    auto rendered = renderHFTokenizer(**json, path);
    if (!rendered)
      return rendered.takeError();
    return TokenizerSection{"tokenizer.bpe", std::move(*rendered), path};
  }
  if (*model && looksLikeTiktoken(**model))
    return TokenizerSection{"tokenizer.tiktoken", std::move(**model),
                            pathOf("tokenizer.model")};
  if (*model)
    return fail(pathOf("tokenizer.model") +
                ": neither a SentencePiece model nor a tiktoken file");
  return std::nullopt;
}

llvm::Expected<std::unique_ptr<rt::Tokenizer>>
llamac::loadTokenizerSection(const TokenizerSection &section) {
  std::unique_ptr<rt::Tokenizer> tokenizer;
  rt::Status status = rt::loadTokenizer(
      section.name, reinterpret_cast<const uint8_t *>(section.bytes.data()),
      section.bytes.size(), tokenizer);
  if (!status.ok())
    return fail(section.source + ": " + status.message());
  return std::move(tokenizer);
}
