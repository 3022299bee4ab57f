//===- CudaDriver.cpp - the CUDA driver API, opened at run time -*- C++ -*-===//
#include "CudaDriver.h"

#include <dlfcn.h>

namespace llamac::rt::cuda {

namespace {

template <typename F>
bool resolve(void *library, const char *name, F &slot) {
  slot = reinterpret_cast<F>(dlsym(library, name));
  return slot != nullptr;
}

Status load(Driver &d) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return fail("no NVIDIA driver: cannot open libcuda.so.1 (%s)", dlerror());
  // The _v2 names are the ones cuda.h maps the plain names to.
  struct Entry {
    const char *name;
    bool ok;
  };
  const Entry entries[] = {
      {"cuInit", resolve(library, "cuInit", d.cuInit)},
      {"cuDriverGetVersion",
       resolve(library, "cuDriverGetVersion", d.cuDriverGetVersion)},
      {"cuDeviceGetCount",
       resolve(library, "cuDeviceGetCount", d.cuDeviceGetCount)},
      {"cuDeviceGet", resolve(library, "cuDeviceGet", d.cuDeviceGet)},
      {"cuDeviceGetAttribute",
       resolve(library, "cuDeviceGetAttribute", d.cuDeviceGetAttribute)},
      {"cuDeviceGetName", resolve(library, "cuDeviceGetName", d.cuDeviceGetName)},
      {"cuDevicePrimaryCtxRetain",
       resolve(library, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain)},
      {"cuCtxSetCurrent", resolve(library, "cuCtxSetCurrent", d.cuCtxSetCurrent)},
      {"cuMemGetInfo_v2", resolve(library, "cuMemGetInfo_v2", d.cuMemGetInfo)},
      {"cuMemAlloc_v2", resolve(library, "cuMemAlloc_v2", d.cuMemAlloc)},
      {"cuMemFree_v2", resolve(library, "cuMemFree_v2", d.cuMemFree)},
      {"cuMemHostAlloc", resolve(library, "cuMemHostAlloc", d.cuMemHostAlloc)},
      {"cuMemFreeHost", resolve(library, "cuMemFreeHost", d.cuMemFreeHost)},
      {"cuMemHostGetDevicePointer_v2",
       resolve(library, "cuMemHostGetDevicePointer_v2",
               d.cuMemHostGetDevicePointer)},
      {"cuMemcpyHtoD_v2", resolve(library, "cuMemcpyHtoD_v2", d.cuMemcpyHtoD)},
      {"cuMemsetD8_v2", resolve(library, "cuMemsetD8_v2", d.cuMemsetD8)},
      {"cuModuleLoadDataEx",
       resolve(library, "cuModuleLoadDataEx", d.cuModuleLoadDataEx)},
      {"cuModuleGetFunction",
       resolve(library, "cuModuleGetFunction", d.cuModuleGetFunction)},
      {"cuLaunchKernel", resolve(library, "cuLaunchKernel", d.cuLaunchKernel)},
      {"cuStreamCreate", resolve(library, "cuStreamCreate", d.cuStreamCreate)},
      {"cuStreamSynchronize",
       resolve(library, "cuStreamSynchronize", d.cuStreamSynchronize)},
      {"cuGetErrorName", resolve(library, "cuGetErrorName", d.cuGetErrorName)},
      {"cuGetErrorString",
       resolve(library, "cuGetErrorString", d.cuGetErrorString)},
  };
  for (const Entry &entry : entries)
    if (!entry.ok)
      return fail("the NVIDIA driver is too old: libcuda.so.1 has no %s",
                  entry.name);
  return Status::success();
}

} // namespace

Status openDriver(const Driver *&out) {
  static Driver driver;
  static Status status = load(driver);
  if (!status.ok())
    return status;
  out = &driver;
  return Status::success();
}

std::string describe(const Driver &driver, CUresult result, const char *what) {
  const char *name = nullptr, *text = nullptr;
  driver.cuGetErrorName(result, &name);
  driver.cuGetErrorString(result, &text);
  std::string message = what;
  message += ": ";
  message += name ? name : "CUDA error " + std::to_string(result);
  if (text) {
    message += " (";
    message += text;
    message += ")";
  }
  return message;
}

} // namespace llamac::rt::cuda
