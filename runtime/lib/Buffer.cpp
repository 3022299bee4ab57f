//===- Buffer.cpp - zero-filled, page-aligned buffers for the model -*- C++ -*-===//
//
// MAP_PRIVATE | MAP_ANONYMOUS memory; a failed allocation (a model whose KV
// cache exceeds the machine) is an error line naming the size.
//
//===----------------------------------------------------------------------===//
#include "llamac/runtime/Buffer.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>

namespace llamac::rt {

Buffer::~Buffer() {
  if (data_)
    munmap(data_, bytes_);
}

Status Buffer::allocate(size_t bytes, const char *what) {
  if (data_)
    munmap(data_, bytes_);
  data_ = nullptr;
  bytes_ = 0;
  if (bytes == 0)
    return Status::success();
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return fail("cannot allocate the %s (%.1f MiB): %s", what,
                double(bytes) / (1024.0 * 1024.0), std::strerror(errno));
  data_ = p;
  bytes_ = bytes;
  return Status::success();
}

} // namespace llamac::rt
