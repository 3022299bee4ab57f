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
//  - the temporaries are allocated and freed in stream order from the
//    device's memory pool (cuMemAllocAsync / cuMemFreeAsync on the one
//    stream; CudaMemory.cpp sets the pool to keep what is freed): no call
//    waits for the GPU, and a freed block serves the next request that
//    fits, of whatever size (the attention's temporaries grow by a key
//    each step). cuMemAlloc/cuMemFree instead cost tens of microseconds
//    each and cuMemFree waits for the device: measured on an H200, a
//    per-size cache of them left 3.7 ms (1B) and 25 ms (8B) of each decode
//    step to the host.
// Errors are recorded in the session, and later calls do nothing.
//
//===----------------------------------------------------------------------===//
#include "CudaSession.h"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

using namespace llamac::rt::cuda;

namespace {

struct LazyModule {
  const char *ptx = nullptr;
  CUmodule module = nullptr;
  /// By the address of the name the generated code passes: a constant of
  /// its own, the same at every launch. The generated code asks for the
  /// function before each launch, and a model has thousands of kernels (a
  /// search by name cost ~20 µs a launch on an 8B model's decode step).
  std::unordered_map<const char *, CUfunction> functions;
};

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

struct Dims {
  intptr_t x, y, z;
};

/// A kernel asking for more than the 48 KB of shared memory every launch
/// may take (the wgmma GEMMs' stages) opts in first, once per kernel.
constexpr int32_t kDefaultSharedLimit = 48 * 1024;
constexpr int kMaxDynamicSharedSizeBytes = 8; // CU_FUNC_ATTRIBUTE_...

bool allowShared(Session &s, CUfunction function, int32_t bytes) {
  static std::unordered_map<CUfunction, int32_t> allowed;
  if (bytes <= kDefaultSharedLimit)
    return true;
  int32_t &limit = allowed[function];
  if (limit >= bytes)
    return true;
  if (!s.check(s.driver->cuFuncSetAttribute(function,
                                            kMaxDynamicSharedSizeBytes, bytes),
               "allowing a kernel more than 48 KB of shared memory "
               "(cuFuncSetAttribute)"))
    return false;
  limit = bytes;
  return true;
}

/// One launch on the session's stream: through cuLaunchKernelEx where it
/// overlaps the kernel before (programmatic dependent launch) or runs in
/// clusters, else cuLaunchKernel.
void launch(void *function, std::optional<Dims> cluster, Dims grid, Dims block,
            int32_t sharedBytes, void **params, void **extra) {
  Session &s = session();
  if (!function || !s.error.empty() ||
      !allowShared(s, static_cast<CUfunction>(function), sharedBytes))
    return;
  if (cluster && !s.driver->cuLaunchKernelEx) {
    s.error = "the NVIDIA driver is too old: this executable launches thread "
              "block clusters, which need cuLaunchKernelEx (CUDA 12.3)";
    return;
  }
  if (s.overlapLaunches || cluster) {
    CUlaunchAttribute attributes[2] = {};
    unsigned count = 0;
    if (s.overlapLaunches) {
      attributes[count].id =
          CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
      attributes[count++].value.programmaticStreamSerializationAllowed = 1;
    }
    if (cluster) {
      attributes[count].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
      attributes[count++].value.clusterDim = {
          static_cast<unsigned>(cluster->x), static_cast<unsigned>(cluster->y),
          static_cast<unsigned>(cluster->z)};
    }
    CUlaunchConfig config = {static_cast<unsigned>(grid.x),
                             static_cast<unsigned>(grid.y),
                             static_cast<unsigned>(grid.z),
                             static_cast<unsigned>(block.x),
                             static_cast<unsigned>(block.y),
                             static_cast<unsigned>(block.z),
                             static_cast<unsigned>(sharedBytes),
                             s.stream,
                             attributes,
                             count};
    s.check(s.driver->cuLaunchKernelEx(
                &config, static_cast<CUfunction>(function), params, extra),
            "cuLaunchKernelEx");
    return;
  }
  s.check(s.driver->cuLaunchKernel(static_cast<CUfunction>(function), grid.x,
                                   grid.y, grid.z, block.x, block.y, block.z,
                                   sharedBytes, s.stream, params, extra),
          "cuLaunchKernel");
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
  if (auto known = m->functions.find(name); known != m->functions.end())
    return known->second;
  if (!load(s, *m))
    return nullptr;
  CUfunction function = nullptr;
  if (!s.check(s.driver->cuModuleGetFunction(&function, m->module, name),
               "cuModuleGetFunction"))
    return nullptr;
  m->functions.emplace(name, function);
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void * /*stream*/,
                      void **params, void **extra, size_t /*paramsCount*/) {
  launch(function, {}, {gridX, gridY, gridZ}, {blockX, blockY, blockZ},
         sharedBytes, params, extra);
}

// A launch of thread block clusters (sm_90: the decode attention's blocks
// that combine their results in each other's shared memory).
void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t sharedBytes, void * /*stream*/,
                             void **params, void **extra,
                             size_t /*paramsCount*/) {
  launch(function, Dims{clusterX, clusterY, clusterZ}, {gridX, gridY, gridZ},
         {blockX, blockY, blockZ}, sharedBytes, params, extra);
}

void *mgpuStreamCreate() { return session().stream; }
void mgpuStreamDestroy(void * /*stream*/) {}
void mgpuStreamSynchronize(void * /*stream*/) {}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool /*hostShared*/) {
  Session &s = session();
  if (!s.driver || !s.error.empty())
    return nullptr;
  CUdeviceptr ptr = 0;
  if (!s.check(s.driver->cuMemAllocAsync(&ptr, bytes ? bytes : 1, s.stream),
               "allocating device memory for the model's temporaries"))
    return nullptr;
  return reinterpret_cast<void *>(ptr);
}

// Freed in stream order: the block is reused once the launches before this
// point, the last ones that read it, are done.
void mgpuMemFree(void *ptr, void * /*stream*/) {
  Session &s = session();
  if (!ptr || !s.driver || !s.error.empty())
    return;
  s.check(s.driver->cuMemFreeAsync(reinterpret_cast<CUdeviceptr>(ptr),
                                   s.stream),
          "freeing device memory of the model's temporaries");
}

} // extern "C"
