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
 * Nothing runs on it: past the start-up checks every call fails with
 * CUDA_ERROR_NOT_SUPPORTED, except that with
 *   FAKE_CUDA_MEMORY=1     device and pinned memory are host memory, and
 *                          asynchronous copies wait in a queue until an
 *                          event recorded after them (or the stream) is
 *                          synchronized, so a buffer reused too early shows;
 *   FAKE_CUDA_DUMP=FILE    the first allocation (the weights) is written
 *                          to FILE when the kernels are loaded, which fails. */
#include <stddef.h>
#include <stdio.h>
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

/* Past the start-up checks: not supported, or host memory. */
static int memory(void) { return setting("FAKE_CUDA_MEMORY", 0); }

typedef unsigned long long CUdeviceptr;
static void *weights;
static size_t weightBytes;

CUresult cuMemAlloc_v2(CUdeviceptr *out, size_t bytes) {
  if (!memory())
    return NOT_SUPPORTED;
  void *p = calloc(1, bytes);
  if (!weights)
    weights = p, weightBytes = bytes;
  *out = (CUdeviceptr)p;
  return SUCCESS;
}
CUresult cuMemHostAlloc(void **out, size_t bytes, unsigned flags) {
  (void)flags;
  if (!memory())
    return NOT_SUPPORTED;
  *out = calloc(1, bytes);
  return SUCCESS;
}
CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *out, void *host,
                                      unsigned flags) {
  (void)flags;
  *out = (CUdeviceptr)host;
  return memory() ? SUCCESS : NOT_SUPPORTED;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  (void)p;
  return memory() ? SUCCESS : NOT_SUPPORTED;
}
CUresult cuMemFreeHost(void *p) {
  (void)p;
  return memory() ? SUCCESS : NOT_SUPPORTED;
}
CUresult cuMemsetD8_v2(CUdeviceptr p, unsigned char value, size_t bytes) {
  if (!memory())
    return NOT_SUPPORTED;
  memset((void *)p, value, bytes);
  return SUCCESS;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr to, const void *from, size_t bytes) {
  if (!memory())
    return NOT_SUPPORTED;
  memcpy((void *)to, from, bytes);
  return SUCCESS;
}

/* Asynchronous copies, done when an event recorded after them (or the
 * stream) is synchronized. An event is the count of copies before it. */
struct copy {
  CUdeviceptr to;
  const void *from;
  size_t bytes;
};
static struct copy *queue;
static size_t queued, done;
static size_t events[64], numEvents;

static void finish(size_t upTo) {
  for (; done < upTo; ++done)
    memcpy((void *)queue[done].to, queue[done].from, queue[done].bytes);
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr to, const void *from, size_t bytes,
                              void *stream) {
  (void)stream;
  if (!memory())
    return NOT_SUPPORTED;
  queue = realloc(queue, (queued + 1) * sizeof *queue);
  queue[queued++] = (struct copy){to, from, bytes};
  return SUCCESS;
}
CUresult cuEventCreate(size_t **event, unsigned flags) {
  (void)flags;
  if (!memory() || numEvents == 64)
    return NOT_SUPPORTED;
  *event = &events[numEvents++];
  return SUCCESS;
}
CUresult cuEventRecord(size_t *event, void *stream) {
  (void)stream;
  *event = queued;
  return SUCCESS;
}
CUresult cuEventSynchronize(size_t *event) {
  finish(*event);
  return SUCCESS;
}
CUresult cuEventDestroy_v2(size_t *event) {
  (void)event;
  return SUCCESS;
}
CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  if (!memory())
    return NOT_SUPPORTED;
  finish(queued);
  return SUCCESS;
}
CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = &queue;
  return memory() ? SUCCESS : NOT_SUPPORTED;
}
CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n,
                            int *options, void **values) {
  (void)module, (void)image, (void)n, (void)options, (void)values;
  const char *path = getenv("FAKE_CUDA_DUMP");
  if (path && weights) {
    FILE *out = fopen(path, "wb");
    if (out) {
      fwrite(weights, 1, weightBytes, out);
      fclose(out);
    }
  }
  return NOT_SUPPORTED;
}

#define UNSUPPORTED(name)                                                      \
  CUresult name(void) { return NOT_SUPPORTED; }
#ifndef FAKE_CUDA_OLD
UNSUPPORTED(cuMemAllocAsync)
#endif
UNSUPPORTED(cuMemFreeAsync)
UNSUPPORTED(cuMemcpyDtoH_v2)
UNSUPPORTED(cuMemcpyDtoHAsync_v2)
UNSUPPORTED(cuMemcpyDtoDAsync_v2)
UNSUPPORTED(cuModuleGetFunction)
UNSUPPORTED(cuFuncSetAttribute)
UNSUPPORTED(cuLaunchKernel)
