//===- Status.cpp - formatting of the runtime's error messages ---*- C++ -*-===//
//
// vsnprintf into a std::string: the runtime's messages are short, so one
// stack buffer is tried first and a heap string only when it is too small.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Status.h"

#include <cstdarg>
#include <cstdio>

namespace llamac::rt {

static std::string vformat(const char *fmt, va_list args) {
  char buffer[512];
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(buffer, sizeof(buffer), fmt, copy);
  va_end(copy);
  if (n < 0)
    return fmt;
  if (static_cast<size_t>(n) < sizeof(buffer))
    return std::string(buffer, n);
  std::string result(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(result.data(), result.size(), fmt, args);
  result.resize(n);
  return result;
}

std::string format(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::string result = vformat(fmt, args);
  va_end(args);
  return result;
}

Status fail(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::string result = vformat(fmt, args);
  va_end(args);
  return Status::failure(std::move(result));
}

} // namespace llamac::rt
