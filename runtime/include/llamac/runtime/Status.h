//===- Status.h - how the runtime reports a bad input ------------*- C++ -*-===//
//
// Every bad input ends in one line `error: <message>` and exit code 1; the
// runtime's functions return a Status carrying that message up to main,
// which is the only place that prints it and exits (no exceptions).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_STATUS_H
#define LLAMAC_RUNTIME_STATUS_H

#include <string>
#include <utility>

namespace llamac::rt {

class [[nodiscard]] Status {
public:
  static Status success() { return Status(); }
  static Status failure(std::string message) {
    Status status;
    status.message_ = std::move(message);
    status.failed_ = true;
    return status;
  }

  bool ok() const { return !failed_; }
  const std::string &message() const { return message_; }

private:
  std::string message_;
  bool failed_ = false;
};

// printf-style formatting into a std::string, for error messages.
std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// `failure(format(...))`, the common case.
Status fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_STATUS_H
