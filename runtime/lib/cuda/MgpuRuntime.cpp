//===- MgpuRuntime.cpp - what MLIR's GPU lowering calls ---------*- C++ -*-===//
//
// gpu-to-llvm and the gpu.binary translation emit calls to mgpu* functions
// (the ABI of MLIR's CudaRuntimeWrappers, which Debian does not ship). These
// implement them over the session's driver and stream:
//  - modules are loaded late: the generated constructors register the PTX
//    before main, when there may be no GPU at all; the runtime JIT-compiles
//    it once it has checked the device (loadKernelModules);
//  - every launch goes to the session's one stream, asynchronously; stream
//    create/synchronize/destroy around each launch are no-ops, and the
//    runtime waits once per model call (finishCall);
//  - device allocations are kept for reuse by size, so the temporaries of
//    a call cost no cuMemAlloc after the first call; the attention's
//    temporaries change size with the position, so the blocks kept unused
//    are capped (kMaxCachedBytes): when a new size would exceed the cap,
//    the largest kept blocks (the attention's, which grow with the
//    position and are not asked for again) are released, after a wait for
//    the stream, down to half the cap, so that this happens rarely and the
//    sizes every layer reuses stay.
// Errors are recorded in the session, and later calls do nothing.
//
//===----------------------------------------------------------------------===//
#include "CudaSession.h"

#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <unordered_map>
#include <vector>

using namespace llamac::rt::cuda;

namespace {

struct LazyModule {
  const char *ptx = nullptr;
  CUmodule module = nullptr;
  std::vector<std::pair<std::string, CUfunction>> functions;
};

struct Allocations {
  std::unordered_map<void *, size_t> sizes;
  std::multimap<size_t, void *> free;
  size_t freeBytes = 0;
};

/// Unused device blocks kept for reuse, at most (a few prefill chunks'
/// temporaries of an 8B model).
constexpr size_t kMaxCachedBytes = size_t(256) << 20;

/// Returns the largest kept blocks to the driver, once the stream no longer
/// uses them, until at most `keep` bytes are kept.
void releaseCached(Session &s, Allocations &a, size_t keep) {
  if (a.freeBytes <= keep ||
      !s.check(s.driver->cuStreamSynchronize(s.stream),
               "waiting for the GPU before freeing temporaries"))
    return;
  while (a.freeBytes > keep) {
    auto largest = std::prev(a.free.end());
    s.driver->cuMemFree(reinterpret_cast<CUdeviceptr>(largest->second));
    a.sizes.erase(largest->second);
    a.freeBytes -= largest->first;
    a.free.erase(largest);
  }
}

Allocations &allocations() {
  static Allocations a;
  return a;
}

std::vector<LazyModule *> &registeredModules() {
  static std::vector<LazyModule *> modules;
  return modules;
}

bool load(Session &s, LazyModule &m) {
  return m.module ||
         s.check(s.driver->cuModuleLoadDataEx(&m.module, m.ptx, 0, nullptr,
                                              nullptr),
                 "loading the kernels' PTX (cuModuleLoadDataEx)");
}

} // namespace

Session &llamac::rt::cuda::session() {
  static Session s;
  return s;
}

llamac::rt::Status llamac::rt::cuda::loadKernelModules() {
  Session &s = session();
  for (LazyModule *m : registeredModules())
    if (!load(s, *m))
      return fail("%s", s.error.c_str());
  return Status::success();
}

extern "C" {

void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  auto *m = new LazyModule();
  m->ptx = static_cast<const char *>(data);
  registeredModules().push_back(m);
  return m;
}

// Object code (cubin or fatbin) is loaded the same way, lazily.
void *mgpuModuleLoad(void *data, size_t /*bytes*/) {
  return mgpuModuleLoadJIT(data, /*optLevel=*/0);
}

// At exit the context may already be gone; the process frees everything.
void mgpuModuleUnload(void * /*module*/) {}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  Session &s = session();
  auto *m = static_cast<LazyModule *>(handle);
  if (!s.driver || !s.error.empty())
    return nullptr;
  for (auto &[known, function] : m->functions)
    if (known == name)
      return function;
  if (!load(s, *m))
    return nullptr;
  CUfunction function = nullptr;
  if (!s.check(s.driver->cuModuleGetFunction(&function, m->module, name),
               "cuModuleGetFunction"))
    return nullptr;
  m->functions.emplace_back(name, function);
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void * /*stream*/,
                      void **params, void **extra, size_t /*paramsCount*/) {
  Session &s = session();
  if (!function || !s.error.empty())
    return;
  s.check(s.driver->cuLaunchKernel(
              static_cast<CUfunction>(function), gridX, gridY, gridZ, blockX,
              blockY, blockZ, sharedBytes, s.stream, params, extra),
          "cuLaunchKernel");
}

void *mgpuStreamCreate() { return session().stream; }
void mgpuStreamDestroy(void * /*stream*/) {}
void mgpuStreamSynchronize(void * /*stream*/) {}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool /*hostShared*/) {
  Session &s = session();
  if (!s.driver || !s.error.empty())
    return nullptr;
  Allocations &a = allocations();
  auto reuse = a.free.find(bytes);
  if (reuse != a.free.end()) {
    void *ptr = reuse->second;
    a.free.erase(reuse);
    a.freeBytes -= bytes;
    return ptr;
  }
  if (a.freeBytes + bytes > kMaxCachedBytes)
    releaseCached(s, a, kMaxCachedBytes / 2);
  CUdeviceptr ptr = 0;
  if (!s.check(s.driver->cuMemAlloc(&ptr, bytes ? bytes : 1),
               "allocating device memory for the model's temporaries"))
    return nullptr;
  void *p = reinterpret_cast<void *>(ptr);
  a.sizes[p] = bytes;
  return p;
}

// Kept for the next allocation of the same size: launches run in stream
// order, so the next user of the block runs after the last one.
void mgpuMemFree(void *ptr, void * /*stream*/) {
  Allocations &a = allocations();
  auto it = a.sizes.find(ptr);
  if (it != a.sizes.end()) {
    a.free.emplace(it->second, ptr);
    a.freeBytes += it->second;
  }
}

} // extern "C"
