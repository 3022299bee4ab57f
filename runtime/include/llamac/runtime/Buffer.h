//===- Buffer.h - zero-filled, page-aligned buffers for the model -*- C++ -*-===//
//
// The KV cache and the logits come from anonymous mmap: zeroed by the
// kernel, so pages the model never touches (the unused end of a long
// context) cost no memory, and aligned beyond what compiled code may assume.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_BUFFER_H
#define LLAMAC_RUNTIME_BUFFER_H

#include "llamac/runtime/Status.h"

#include <cstddef>

namespace llamac::rt {

class Buffer {
public:
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer();

  // Allocates `bytes` zero bytes (none for 0); `what` names the buffer in
  // the error.
  Status allocate(size_t bytes, const char *what);

  template <typename T> T *as() const { return static_cast<T *>(data_); }
  size_t bytes() const { return bytes_; }

private:
  void *data_ = nullptr;
  size_t bytes_ = 0;
};

} // namespace llamac::rt

#endif // LLAMAC_RUNTIME_BUFFER_H
