//===- Payload.h - finding, checking and mapping the payload -----*- C++ -*-===//
//
// The weights (and later the tokenizer) travel as payload sections at the end
// of the executable or in a sidecar EXE.weights, per ModelABI.h; this finds
// the file, validates its trailer and table, and mmaps each section in place.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_PAYLOAD_H
#define LLAMAC_RUNTIME_PAYLOAD_H

#include "llamac/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llamac::rt {

// One read-only private mapping of a file range; unmapped on destruction.
class Mapping {
public:
  Mapping() = default;
  Mapping(void *base, size_t length, const uint8_t *data)
      : base_(base), length_(length), data_(data) {}
  Mapping(Mapping &&other) noexcept { *this = std::move(other); }
  Mapping &operator=(Mapping &&other) noexcept;
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  ~Mapping() { reset(); }

  // The section's first byte (the mapping may start earlier, at a page
  // boundary, where the system's pages are larger than the payload's
  // 4096-byte alignment).
  const uint8_t *data() const { return data_; }

private:
  void reset();
  void *base_ = nullptr;
  size_t length_ = 0;
  const uint8_t *data_ = nullptr;
};

struct PayloadSection {
  std::string name;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  Mapping mapping; // empty for a section of 0 bytes
};

class Payload {
public:
  // Reads the payload from `weightsFlag` if not empty, else from the end of
  // `exePath` if it has a trailer, else from `exePath`.weights; checks it and
  // that its "weights" section holds `weightsBytes` bytes, and maps it.
  static Status load(const std::string &weightsFlag, const std::string &exePath,
                     int64_t weightsBytes, Payload &out);

  // The section named `name`, or null.
  const PayloadSection *find(const std::string &name) const;
  const std::string &path() const { return path_; }
  const std::vector<PayloadSection> &sections() const { return sections_; }

private:
  std::string path_;
  std::vector<PayloadSection> sections_;
};

// The running executable's path: /proc/self/exe, else `argv0`.
std::string executablePath(const char *argv0);

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_PAYLOAD_H
