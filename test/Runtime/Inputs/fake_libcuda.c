/* A test double of the NVIDIA driver (libcuda.so.1), found first through
 * LD_LIBRARY_PATH: the driver API functions the CUDA runtime resolves,
 * answering as a GPU that environment variables describe, so that the
 * runtime's start-up errors are tested on machines without one:
 *   FAKE_CUDA_NO_DEVICE=1  cuInit reports no device
 *   FAKE_CUDA_DEVICES=N    devices counted (1)
 *   FAKE_CUDA_VERSION=V    the driver's CUDA version (13000: 13.0)
 *   FAKE_CUDA_SM=NN        the GPU's compute capability (90)
 *   FAKE_CUDA_FREE_MIB=N   free device memory (81920)
 * Built with FAKE_CUDA_OLD it lacks cuMemAllocAsync (a pre-11.2 driver).
 * Nothing runs on it: every call past the start-up checks (allocations,
 * copies, module loads, launches) fails with CUDA_ERROR_NOT_SUPPORTED. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum { SUCCESS = 0, NO_DEVICE = 100, NOT_SUPPORTED = 801 };

static int setting(const char *name, int fallback) {
  const char *value = getenv(name);
  return value && *value ? atoi(value) : fallback;
}

CUresult cuInit(unsigned flags) {
  (void)flags;
  return setting("FAKE_CUDA_NO_DEVICE", 0) ? NO_DEVICE : SUCCESS;
}
CUresult cuDriverGetVersion(int *version) {
  *version = setting("FAKE_CUDA_VERSION", 13000);
  return SUCCESS;
}
CUresult cuDeviceGetCount(int *count) {
  *count = setting("FAKE_CUDA_DEVICES", 1);
  return SUCCESS;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return SUCCESS;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  int sm = setting("FAKE_CUDA_SM", 90);
  enum { MAJOR = 75, MINOR = 76, MEMORY_POOLS = 115 };
  *value = attribute == MAJOR          ? sm / 10
           : attribute == MINOR        ? sm % 10
           : attribute == MEMORY_POOLS ? 1
                                       : 0;
  return SUCCESS;
}
CUresult cuDeviceGetName(char *name, int length, int device) {
  (void)device;
  strncpy(name, "Fake GPU", (size_t)length);
  name[length - 1] = '\0';
  return SUCCESS;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  *context = NULL;
  return SUCCESS;
}
CUresult cuCtxSetCurrent(void *context) {
  (void)context;
  return SUCCESS;
}
CUresult cuCtxSetLimit(int limit, size_t value) {
  (void)limit, (void)value;
  return SUCCESS;
}
CUresult cuDeviceGetDefaultMemPool(void **pool, int device) {
  (void)device;
  *pool = NULL;
  return SUCCESS;
}
CUresult cuMemPoolSetAttribute(void *pool, int attribute, void *value) {
  (void)pool, (void)attribute, (void)value;
  return SUCCESS;
}
CUresult cuMemGetInfo_v2(size_t *free, size_t *total) {
  *free = (size_t)setting("FAKE_CUDA_FREE_MIB", 81920) << 20;
  *total = *free;
  return SUCCESS;
}
CUresult cuGetErrorName(CUresult error, const char **name) {
  *name = error == NOT_SUPPORTED ? "CUDA_ERROR_NOT_SUPPORTED"
                                 : "CUDA_ERROR_UNKNOWN";
  return SUCCESS;
}
CUresult cuGetErrorString(CUresult error, const char **text) {
  (void)error;
  *text = "the fake driver runs nothing";
  return SUCCESS;
}

/* Past the start-up checks: not supported. */
#define UNSUPPORTED(name)                                                      \
  CUresult name(void) { return NOT_SUPPORTED; }
UNSUPPORTED(cuMemAlloc_v2)
UNSUPPORTED(cuMemFree_v2)
#ifndef FAKE_CUDA_OLD
UNSUPPORTED(cuMemAllocAsync)
#endif
UNSUPPORTED(cuMemFreeAsync)
UNSUPPORTED(cuMemHostAlloc)
UNSUPPORTED(cuMemFreeHost)
UNSUPPORTED(cuMemHostGetDevicePointer_v2)
UNSUPPORTED(cuMemcpyHtoD_v2)
UNSUPPORTED(cuMemcpyDtoH_v2)
UNSUPPORTED(cuMemcpyHtoDAsync_v2)
UNSUPPORTED(cuMemsetD8_v2)
UNSUPPORTED(cuModuleLoadDataEx)
UNSUPPORTED(cuModuleGetFunction)
UNSUPPORTED(cuLaunchKernel)
UNSUPPORTED(cuStreamCreate)
UNSUPPORTED(cuStreamSynchronize)
