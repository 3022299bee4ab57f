//===- Linker.h - model object + runtime -> executable ----------*- C++ -*-===//
#ifndef LLAMAC_COMPILER_LINKER_H
#define LLAMAC_COMPILER_LINKER_H

#include "llvm/Support/Error.h"

#include <string>

namespace llamac {

/// The directory holding libllamac_rt.a and libllamac_rt_main.a: the
/// `lib/` beside the `bin/` that holds the running llamac.
llvm::Expected<std::string> findRuntimeLibDir(const char *argv0);

/// Links `object` with the runtime into `output` using `linker` (a C++
/// compiler driver; empty: $LLAMAC_LINKER, else the first of clang++-22,
/// clang++, g++, c++ on PATH).
llvm::Error linkExecutable(llvm::StringRef object, llvm::StringRef output,
                           llvm::StringRef runtimeLibDir,
                           llvm::StringRef linker);

} // namespace llamac

#endif // LLAMAC_COMPILER_LINKER_H
