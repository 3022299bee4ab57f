//===- CudaSession.h - state the generated host code runs on ----*- C++ -*-===//
//
// The compiled host code calls the mgpu* functions (MgpuRuntime.cpp) with no
// way to return an error; they run on this process-wide session, set up by
// CudaMemory.cpp before the first model call, and keep its first error for
// CudaMemory::run to report when the call has finished.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_RUNTIME_CUDA_CUDASESSION_H
#define LLAMAC_RUNTIME_CUDA_CUDASESSION_H

#include "CudaDriver.h"

#include <string>

namespace llamac::rt::cuda {

struct Session {
  const Driver *driver = nullptr; // null until CudaMemory opens it
  CUstream stream = nullptr;      // every launch goes here, in order
  // Launch each kernel as a programmatic dependent of the one before (its
  // launch overlaps that kernel's end; the kernels of sm_90 executables
  // wait for it with griddepcontrol.wait before touching memory).
  bool overlapLaunches = false;
  std::string error;              // the first failure, if any

  // Records a failure (the first one wins); false if `result` is one.
  bool check(CUresult result, const char *what) {
    if (result == CUDA_SUCCESS)
      return true;
    if (error.empty())
      error = driver ? describe(*driver, result, what) : what;
    return false;
  }
};

Session &session();

// JIT-compiles and loads the kernels' PTX, registered by the generated
// constructors, now rather than at the first launch (so load time, not the
// first prefill, shows it); needs the session's driver and context.
Status loadKernelModules();

} // namespace llamac::rt::cuda

#endif // LLAMAC_RUNTIME_CUDA_CUDASESSION_H
