//===- CudaDriver.cpp - the CUDA driver API, opened at run time -*- C++ -*-===//
#include "CudaDriver.h"

#include <dlfcn.h>

#include <type_traits>

namespace llamac::rt::cuda {

namespace {

Status load(Driver &d) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return fail("no NVIDIA driver: cannot open libcuda.so.1 (%s)", dlerror());
  // The first symbol the driver lacks, named in the error.
  const char *missing = nullptr;
  auto resolve = [&](const char *name, auto &slot) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(
        dlsym(library, name));
    if (!slot && !missing)
      missing = name;
  };
  // The _v2 names are the ones cuda.h maps the plain names to.
  resolve("cuInit", d.cuInit);
  resolve("cuDriverGetVersion", d.cuDriverGetVersion);
  resolve("cuDeviceGetCount", d.cuDeviceGetCount);
  resolve("cuDeviceGet", d.cuDeviceGet);
  resolve("cuDeviceGetAttribute", d.cuDeviceGetAttribute);
  resolve("cuDeviceGetName", d.cuDeviceGetName);
  resolve("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain);
  resolve("cuCtxSetCurrent", d.cuCtxSetCurrent);
  resolve("cuCtxSetLimit", d.cuCtxSetLimit);
  resolve("cuMemGetInfo_v2", d.cuMemGetInfo);
  resolve("cuMemAlloc_v2", d.cuMemAlloc);
  resolve("cuMemFree_v2", d.cuMemFree);
  resolve("cuMemAllocAsync", d.cuMemAllocAsync);
  resolve("cuMemFreeAsync", d.cuMemFreeAsync);
  resolve("cuDeviceGetDefaultMemPool", d.cuDeviceGetDefaultMemPool);
  resolve("cuMemPoolSetAttribute", d.cuMemPoolSetAttribute);
  resolve("cuMemHostAlloc", d.cuMemHostAlloc);
  resolve("cuMemFreeHost", d.cuMemFreeHost);
  resolve("cuMemHostGetDevicePointer_v2", d.cuMemHostGetDevicePointer);
  resolve("cuMemcpyHtoD_v2", d.cuMemcpyHtoD);
  resolve("cuMemcpyDtoH_v2", d.cuMemcpyDtoH);
  resolve("cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync);
  resolve("cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync);
  resolve("cuMemcpyDtoDAsync_v2", d.cuMemcpyDtoDAsync);
  resolve("cuMemsetD8_v2", d.cuMemsetD8);
  resolve("cuModuleLoadDataEx", d.cuModuleLoadDataEx);
  resolve("cuModuleGetFunction", d.cuModuleGetFunction);
  resolve("cuFuncSetAttribute", d.cuFuncSetAttribute);
  resolve("cuLaunchKernel", d.cuLaunchKernel);
  resolve("cuStreamCreate", d.cuStreamCreate);
  resolve("cuStreamSynchronize", d.cuStreamSynchronize);
  resolve("cuEventCreate", d.cuEventCreate);
  resolve("cuEventRecord", d.cuEventRecord);
  resolve("cuEventSynchronize", d.cuEventSynchronize);
  resolve("cuEventDestroy_v2", d.cuEventDestroy);
  resolve("cuGetErrorName", d.cuGetErrorName);
  resolve("cuGetErrorString", d.cuGetErrorString);
  if (missing)
    return fail("the NVIDIA driver is too old: libcuda.so.1 has no %s",
                missing);
  // Optional: without them every call launches its kernels directly.
  int version = 0;
  if (d.cuDriverGetVersion(&version) == CUDA_SUCCESS && version >= 11040) {
    resolve("cuStreamBeginCapture_v2", d.cuStreamBeginCapture);
    resolve("cuStreamEndCapture", d.cuStreamEndCapture);
    resolve("cuGraphInstantiateWithFlags", d.cuGraphInstantiateWithFlags);
    resolve("cuGraphLaunch", d.cuGraphLaunch);
    resolve("cuGraphDestroy", d.cuGraphDestroy);
    resolve("cuDeviceGetGraphMemAttribute", d.cuDeviceGetGraphMemAttribute);
    resolve("cuMemPoolGetAttribute", d.cuMemPoolGetAttribute);
  }
  if (version >= 12000)
    resolve("cuTensorMapEncodeTiled", d.cuTensorMapEncodeTiled);
  if (version >= 12030)
    resolve("cuLaunchKernelEx", d.cuLaunchKernelEx);
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
