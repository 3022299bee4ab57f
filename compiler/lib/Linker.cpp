//===- Linker.cpp - model object + runtime -> executable --------*- C++ -*-===//
//
// The system's C++ driver does the linking: it knows where libc, libm and
// libstdc++ live on this machine, which the runtime needs.
//
//===----------------------------------------------------------------------===//
#include "llamac/compiler/Linker.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace llamac;
using llvm::Error;

namespace {
Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::string> findLinker(llvm::StringRef requested) {
  if (requested.empty())
    if (const char *env = std::getenv("LLAMAC_LINKER"))
      requested = env;
  if (!requested.empty()) {
    auto found = llvm::sys::findProgramByName(requested);
    if (!found)
      return fail("linker '" + requested + "' not found");
    return *found;
  }
  for (const char *name : {"clang++-22", "clang++", "g++", "c++"})
    if (auto found = llvm::sys::findProgramByName(name))
      return *found;
  return fail("no C++ compiler driver to link with (tried clang++-22, "
              "clang++, g++, c++); set LLAMAC_LINKER or pass --linker");
}
} // namespace

llvm::Expected<std::string> llamac::findRuntimeLibDir(const char *argv0) {
  std::string self = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&findRuntimeLibDir));
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(dir, "..", "lib");
  llvm::SmallString<256> lib(dir);
  llvm::sys::path::append(lib, "libllamac_rt.a");
  if (!llvm::sys::fs::exists(lib))
    return fail("the llamac runtime library is missing: " + lib +
                " (was llamac installed with its lib/ directory?)");
  llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
  return std::string(dir);
}

Error llamac::linkExecutable(llvm::StringRef object, llvm::StringRef output,
                             llvm::StringRef runtimeLibDir,
                             llvm::StringRef linker) {
  auto driver = findLinker(linker);
  if (!driver)
    return driver.takeError();
  std::string mainLib = (runtimeLibDir + "/libllamac_rt_main.a").str();
  std::string rtLib = (runtimeLibDir + "/libllamac_rt.a").str();
  // The runtime's tokenizers (-p TEXT): SentencePiece, which Debian ships
  // as a shared library only (protobuf-lite built in, no static archive),
  // and PCRE2 for Llama 3's pre-tokenizer. Both are linked dynamically: the
  // executable needs libsentencepiece0 and libpcre2-8-0.
  llvm::SmallVector<llvm::StringRef> args = {
      *driver,  "-o",    output, object, mainLib, rtLib, "-lsentencepiece",
      "-lpcre2-8", "-lm"};

  llvm::SmallString<128> log;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("llamac-link", "log", log))
    return fail("cannot create a temporary file: " + ec.message());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(),
                                                log.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*driver, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/0, /*MemoryLimit=*/0,
                                     &error);
  auto logText = llvm::MemoryBuffer::getFile(log);
  llvm::sys::fs::remove(log);
  if (rc != 0) {
    std::string firstLine;
    if (logText)
      firstLine = (*logText)->getBuffer().trim().split('\n').first.str();
    return fail("linking " + output + " with " + *driver + " failed" +
                (error.empty() ? "" : ": " + error) +
                (firstLine.empty() ? "" : ": " + firstLine));
  }
  return Error::success();
}
