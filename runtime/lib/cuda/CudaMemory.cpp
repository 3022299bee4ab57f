//===- CudaMemory.cpp - the model's buffers on an NVIDIA GPU ----*- C++ -*-===//
//
// Opens the driver, picks device 0, checks it against the arch the kernels
// were compiled for and against the memory the model needs, uploads the
// weights and zeroes the KV cache. Tokens, positions, lengths and sampling
// settings are pinned host memory the host writes (all but the tokens one
// buffer, one copy); for an entry point the compiler marked
// replayable (its kernels read the positions themselves, so every call
// makes the same launches) each call first copies them to device memory
// on the stream, and the kernels read that copy (a kernel reading pinned
// memory waits on a PCIe round trip). Other entry points' host code reads
// the positions, and gets the pinned buffers. The logits are device
// memory, written by the lm_head's kernel in place, and so are each row's
// next token and the workspace of the entry points' temporaries (one
// allocation at load time, the size the compiler planned). readNext copies
// back the token the model drew (4 bytes a step); readLogits the rows the
// host reads where it samples itself (one a call unless the executable was
// compiled with --logits-all and
// --logits-out asks for a prompt's: 128 rows of a 128k vocabulary are
// 66 MB, ~1.3 ms over PCIe).
// A replayable entry point is recorded at load time as a CUDA graph (its
// two copies, then its kernels), and each call replays it: one launch of
// the host's instead of hundreds, and no gaps between kernels for the
// driver to fill. LLAMAC_DISABLE_CUDA_GRAPHS=1 launches directly.
// Generation decodes ahead (ModelMemory::startDecode): the inputs come in
// two slots of pinned buffers, and a decode call started before the host
// has read the previous call's token copies that token from `next` on the
// device and its own draw back into pinned memory, an event marking its
// end; the host fills one slot while the GPU runs the other's call.
// LLAMAC_DISABLE_DECODE_AHEAD=1 waits for each call instead (A/B runs).
//
//===----------------------------------------------------------------------===//
#include "CudaSession.h"
#include "llamac/runtime/ModelMemory.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <pthread.h>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace llamac::rt {

namespace {

using namespace cuda;

// The driver (CUDA version x 1000 + minor x 10) this executable needs: the
// first that JIT-compiles the PTX ISA llamac emits for the arch
// (passes/lib/Pipelines.cpp), and at least 11.2, for the stream-ordered
// allocator the temporaries use (cuMemAllocAsync).
int minimumDriverFor(int64_t arch) {
  switch (arch) {
  case 80:
  case 86:
    return 11020; // PTX 7.0 / 7.1; cuMemAllocAsync
  case 89:
    return 11080; // PTX 7.8
  default:
    // sm_90: PTX 7.8, and thread block cluster launches (decode's
    // attention) through cuLaunchKernelEx, which the runtime takes from
    // CUDA 12.3 on (programmatic dependent launch inside graphs).
    return 12030;
  }
}

double mib(size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// Whether the environment variable `name` is set, to a value that does not
// start with '0' (the LLAMAC_* switches: 1 on, 0 or unset off).
bool switchedOn(const char *name) {
  const char *value = std::getenv(name);
  return value && *value && *value != '0';
}

class CudaMemory final : public ModelMemory {
public:
  Status init(const llamac_model_info &info, const uint8_t *hostWeights);
  Status prepare(EntryPoint entry, bool replayable) override;
  Status run(EntryPoint entry, bool replayable) override;
  Status readLogits(int64_t first, int64_t count, const float *&rows) override;
  Status readNext(int64_t row, int32_t &token) override;
  std::string memoryReport() override;
  bool decodesAhead(bool replayable) const override {
    return replayable && aheadAllowed_;
  }
  void useInputs(int slot) override;
  Status prepareDecodeAhead(EntryPoint entry) override;
  Status startDecode(EntryPoint entry, int slot, bool drawnTokens) override;
  Status awaitDecode(int slot, int32_t &token) override;
  Status awaitAll() override { return finishCall(); }

private:
  // How a replayable call is enqueued: on which input slot; its tokens
  // from the slot or, `drawn`, from the previous call's draws (a D2D copy);
  // with `copyBack`, sequence 0's draw copied into drawnHost_[slot] at its
  // end (a call started ahead, not waited for).
  struct Enqueue {
    int slot = 0;
    bool drawn = false, copyBack = false;
    int key() const { return slot | drawn << 1 | copyBack << 2; }
  };
  Status check(CUresult result, const char *what) {
    if (result == CUDA_SUCCESS)
      return Status::success();
    return fail("%s", describe(*driver_, result, what).c_str());
  }
  Status attribute(CUdevice device, int which, int &value) {
    return check(driver_->cuDeviceGetAttribute(&value, which, device),
                 "cuDeviceGetAttribute");
  }
  Status pinned(size_t bytes, void *&out);
  Status finishCall();
  void enqueueReplayable(EntryPoint entry, Enqueue how);
  Status record(EntryPoint entry, Enqueue how, CUgraphExec &graph);
  // The graph of `entry` enqueued `how`, recorded where there is none yet
  // (kept only once recorded).
  Status graphFor(EntryPoint entry, Enqueue how, CUgraphExec &graph);
  // Replays (or, without graphs, enqueues) the call.
  Status launch(EntryPoint entry, Enqueue how);
  Status keepFreedTemporaries(CUdevice device, const char *name);
  Status uploadWeights(CUdeviceptr device, const uint8_t *host, size_t bytes);

  const Driver *driver_ = nullptr;
  size_t vocab_ = 0;
  float *logitsHost_ = nullptr; // pinned: where readLogits copies rows to
  bool useGraphs_ = false;
  // [batch] positions, [batch] lengths, then [batch, 4] sampling settings,
  // in one buffer (of 8-byte words): one copy a call.
  size_t tokensBytes_ = 0, settingsBytes_ = 0;
  CUdeviceptr tokensOnDevice_ = 0, positionsOnDevice_ = 0;
  // The two input slots' pinned buffers (tokens; positions, lengths and
  // sampling), the one useInputs chose, and for calls started ahead: the
  // draws copied back and an event after each slot's last call.
  int32_t *tokensIn_[2] = {};
  int64_t *settingsIn_[2] = {};
  int slot_ = 0;
  int32_t *drawnHost_ = nullptr;
  CUevent decoded_[2] = {};
  bool aheadAllowed_ = false;
  size_t batch_ = 0;
  std::map<std::pair<EntryPoint, int>, CUgraphExec> graphs_;
  // For memoryReport: the device, its stream-ordered pool, what was in use
  // before the first allocation, and the buffers' sizes.
  CUdevice device_ = 0;
  CUmemoryPool pool_ = nullptr;
  size_t usedAtStart_ = 0, weightBytes_ = 0, kvBytes_ = 0, logitsBytes_ = 0,
         workspaceBytes_ = 0;
};

Status CudaMemory::pinned(size_t bytes, void *&out) {
  if (Status s = check(driver_->cuMemHostAlloc(&out, bytes,
                                               CU_MEMHOSTALLOC_DEVICEMAP),
                       "allocating pinned host memory (cuMemHostAlloc)");
      !s.ok())
    return s;
  // With unified addressing (every 64-bit platform CUDA supports) the
  // device sees pinned memory at its host address; the compiled host code
  // and the kernels share one pointer.
  CUdeviceptr device = 0;
  if (Status s = check(driver_->cuMemHostGetDevicePointer(&device, out, 0),
                       "cuMemHostGetDevicePointer");
      !s.ok())
    return s;
  if (reinterpret_cast<void *>(device) != out)
    return fail("this GPU does not map pinned host memory at its host "
                "address (no unified addressing)");
  std::memset(out, 0, bytes);
  return Status::success();
}

// The model's temporaries come from the device's stream-ordered pool
// (cuMemAllocAsync on the one stream, MgpuRuntime.cpp), set here to keep
// freed memory for reuse instead of returning it at each free.
Status CudaMemory::keepFreedTemporaries(CUdevice device, const char *name) {
  int pools = 0;
  if (Status s =
          attribute(device, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, pools);
      !s.ok())
    return s;
  if (!pools)
    return fail("%s does not support stream-ordered memory pools "
                "(cuMemAllocAsync), which the model's temporaries use",
                name);
  CUmemoryPool pool = nullptr;
  uint64_t keepAll = UINT64_MAX;
  if (Status s = check(driver_->cuDeviceGetDefaultMemPool(&pool, device),
                       "cuDeviceGetDefaultMemPool");
      !s.ok())
    return s;
  pool_ = pool;
  return check(driver_->cuMemPoolSetAttribute(
                   pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keepAll),
               "cuMemPoolSetAttribute");
}

namespace {
/// Threads for the copies out of the mmapped payload into the staging
/// buffers (LLAMAC_UPLOAD_THREADS overrides: 1 copies in the calling thread).
unsigned uploadThreads() {
  if (const char *value = std::getenv("LLAMAC_UPLOAD_THREADS"); value && *value)
    return static_cast<unsigned>(
        std::clamp<unsigned long long>(std::strtoull(value, nullptr, 10), 1, 64));
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

/// memcpy by up to `threads` threads, a contiguous part each: a copy out of
/// a file mapping faults its pages in one by one, a few GB/s a thread,
/// while the copy engine takes 25-50 GB/s. pthreads rather than
/// std::thread: the runtime is built without exceptions, and a thread that
/// cannot be started is no error here (the calling thread copies its part).
void parallelCopy(uint8_t *to, const uint8_t *from, size_t bytes,
                  unsigned threads) {
  struct Part {
    uint8_t *to;
    const uint8_t *from;
    size_t bytes;
    pthread_t thread;
    bool started;
  };
  constexpr size_t kMinPart = 64 << 10;
  const size_t count =
      std::clamp<size_t>(bytes / kMinPart, 1, std::max(threads, 1u));
  const size_t part = (bytes + count - 1) / count;
  std::vector<Part> parts;
  for (size_t offset = 0; offset < bytes; offset += part)
    parts.push_back({to + offset, from + offset, std::min(part, bytes - offset),
                     pthread_t(), false});
  auto copy = [](void *p) -> void * {
    auto *work = static_cast<Part *>(p);
    std::memcpy(work->to, work->from, work->bytes);
    return nullptr;
  };
  for (size_t k = 1; k < parts.size(); ++k)
    parts[k].started =
        pthread_create(&parts[k].thread, nullptr, copy, &parts[k]) == 0;
  for (size_t k = 0; k < parts.size(); ++k)
    if (!parts[k].started)
      copy(&parts[k]);
  for (Part &work : parts)
    if (work.started)
      pthread_join(work.thread, nullptr);
}
} // namespace

// The weights go up through two pinned staging buffers: threads copy a
// chunk of the mmapped payload into one while the copy engine moves the
// other to the device (from pageable memory the driver would stage each
// copy itself, one after the other). LLAMAC_UPLOAD_CHUNK_BYTES sets the
// chunk (for tests).
Status CudaMemory::uploadWeights(CUdeviceptr device, const uint8_t *host,
                                 size_t bytes) {
  const Driver &d = *driver_;
  size_t chunk = 64 << 20;
  if (const char *value = std::getenv("LLAMAC_UPLOAD_CHUNK_BYTES");
      value && *value)
    chunk = std::max<unsigned long long>(1, std::strtoull(value, nullptr, 10));
  chunk = std::min(chunk, bytes);
  if (chunk == 0)
    return Status::success();
  struct Staging {
    const Driver &d;
    void *buffer[2] = {};
    CUevent copied[2] = {};
    ~Staging() {
      for (int i = 0; i < 2; ++i) {
        if (copied[i])
          d.cuEventDestroy(copied[i]);
        if (buffer[i])
          d.cuMemFreeHost(buffer[i]);
      }
    }
  } staging{d};
  const int buffers = bytes > chunk ? 2 : 1;
  const unsigned threads = uploadThreads();
  for (int i = 0; i < buffers; ++i) {
    if (Status s = check(d.cuMemHostAlloc(&staging.buffer[i], chunk, 0),
                         "allocating pinned staging memory for the weights "
                         "(cuMemHostAlloc)");
        !s.ok())
      return s;
    if (Status s = check(d.cuEventCreate(&staging.copied[i], 0),
                         "cuEventCreate");
        !s.ok())
      return s;
  }
  int i = 0;
  for (size_t offset = 0; offset < bytes; offset += chunk, i ^= buffers - 1) {
    const size_t n = std::min(chunk, bytes - offset);
    // The copy that last read this buffer must have finished.
    if (offset >= buffers * chunk)
      if (Status s = check(d.cuEventSynchronize(staging.copied[i]),
                           "uploading the weights");
          !s.ok())
        return s;
    parallelCopy(static_cast<uint8_t *>(staging.buffer[i]), host + offset, n,
                 threads);
    if (Status s = check(d.cuMemcpyHtoDAsync(device + offset,
                                             staging.buffer[i], n, nullptr),
                         "uploading the weights");
        !s.ok())
      return s;
    if (Status s = check(d.cuEventRecord(staging.copied[i], nullptr),
                         "uploading the weights");
        !s.ok())
      return s;
  }
  return check(d.cuStreamSynchronize(nullptr), "uploading the weights");
}

Status CudaMemory::init(const llamac_model_info &info,
                        const uint8_t *hostWeights) {
  if (Status s = openDriver(driver_); !s.ok())
    return s;
  const Driver &d = *driver_;
  if (CUresult result = d.cuInit(0); result == CUDA_ERROR_NO_DEVICE)
    return fail("no CUDA GPU found (the driver sees none)");
  else if (Status s = check(result, "initializing the CUDA driver (cuInit)");
           !s.ok())
    return s;
  int version = 0;
  if (Status s = check(d.cuDriverGetVersion(&version), "cuDriverGetVersion");
      !s.ok())
    return s;
  if (version < minimumDriverFor(info.cuda_arch))
    return fail("the NVIDIA driver is too old: it supports CUDA %d.%d, this "
                "executable's kernels need CUDA %d.%d or newer",
                version / 1000, version % 1000 / 10,
                minimumDriverFor(info.cuda_arch) / 1000,
                minimumDriverFor(info.cuda_arch) % 1000 / 10);
  int count = 0;
  if (Status s = check(d.cuDeviceGetCount(&count), "cuDeviceGetCount");
      !s.ok())
    return s;
  if (count == 0)
    return fail("no CUDA GPU found (the driver sees none)");
  CUdevice device = 0;
  if (Status s = check(d.cuDeviceGet(&device, 0), "cuDeviceGet"); !s.ok())
    return s;
  device_ = device;
  int major = 0, minor = 0;
  char name[256] = "";
  if (Status s =
          attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, major);
      !s.ok())
    return s;
  if (Status s =
          attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, minor);
      !s.ok())
    return s;
  d.cuDeviceGetName(name, sizeof name, device);
  if (major * 10 + minor != info.cuda_arch)
    return fail("this executable was compiled for sm_%lld, but the GPU is "
                "%s (sm_%d%d); recompile with --target sm_%d%d",
                static_cast<long long>(info.cuda_arch), name, major, minor,
                major, minor);
  CUcontext context = nullptr;
  if (Status s = check(d.cuDevicePrimaryCtxRetain(&context, device),
                       "cuDevicePrimaryCtxRetain");
      !s.ok())
    return s;
  if (Status s = check(d.cuCtxSetCurrent(context), "cuCtxSetCurrent");
      !s.ok())
    return s;
  if (Status s = keepFreedTemporaries(device, name); !s.ok())
    return s;
  // The context reserves each thread's stack for every thread the GPU can
  // hold (1 KiB by default: ~270 MiB on 132 SMs). llamac's kernels need
  // none or a few dozen bytes, and the driver grows the reserve at a
  // launch that needs more.
  if (Status s = check(d.cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 0),
                       "cuCtxSetLimit(CU_LIMIT_STACK_SIZE)");
      !s.ok())
    return s;

  const size_t batch = static_cast<size_t>(info.batch);
  // The call buffers hold the longest call's tokens and rows.
  const size_t chunk = static_cast<size_t>(maxCallTokens(info));
  const size_t rows = static_cast<size_t>(maxCallLogitsRows(info));
  const size_t vocab = static_cast<size_t>(info.vocab_size);
  const size_t kvBytes =
      static_cast<size_t>(info.kv_cache_floats) * sizeof(float);
  const size_t weightBytes = static_cast<size_t>(info.weights_bytes);
  size_t freeBytes = 0, totalBytes = 0;
  if (Status s = check(d.cuMemGetInfo(&freeBytes, &totalBytes),
                       "cuMemGetInfo");
      !s.ok())
    return s;
  const size_t logitsBytes = batch * rows * vocab * sizeof(float);
  const size_t workspaceBytes = static_cast<size_t>(info.workspace_bytes);
  const size_t needed = weightBytes + kvBytes + logitsBytes + workspaceBytes;
  usedAtStart_ = totalBytes - freeBytes;
  weightBytes_ = weightBytes;
  kvBytes_ = kvBytes;
  logitsBytes_ = logitsBytes;
  workspaceBytes_ = workspaceBytes;
  if (needed > freeBytes)
    return fail("not enough GPU memory: the model needs %.1f MiB (weights "
                "%.1f, KV cache %.1f, logits %.1f, activations %.1f) and %s "
                "has %.1f MiB free",
                mib(needed), mib(weightBytes), mib(kvBytes), mib(logitsBytes),
                mib(workspaceBytes), name, mib(freeBytes));

  CUdeviceptr weightsOnDevice = 0, kv = 0;
  if (Status s = check(d.cuMemAlloc(&weightsOnDevice,
                                    weightBytes ? weightBytes : 1),
                       "allocating the weights on the GPU");
      !s.ok())
    return s;
  if (Status s = uploadWeights(weightsOnDevice, hostWeights, weightBytes);
      !s.ok())
    return s;
  if (Status s = check(d.cuMemAlloc(&kv, kvBytes ? kvBytes : 1),
                       "allocating the KV cache on the GPU");
      !s.ok())
    return s;
  if (Status s = check(d.cuMemsetD8(kv, 0, kvBytes), "zeroing the KV cache");
      !s.ok())
    return s;
  void *logitsHost = nullptr, *drawnHost = nullptr;
  static_assert(sizeof(double) == sizeof(int64_t));
  settingsBytes_ = 6 * batch * sizeof(int64_t);
  for (int slot = 0; slot < 2; ++slot) {
    void *tokensHost = nullptr, *settingsHost = nullptr;
    if (Status s = pinned(batch * chunk * sizeof(int32_t), tokensHost); !s.ok())
      return s;
    if (Status s = pinned(settingsBytes_, settingsHost); !s.ok())
      return s;
    tokensIn_[slot] = static_cast<int32_t *>(tokensHost);
    settingsIn_[slot] = static_cast<int64_t *>(settingsHost);
    if (Status s = check(d.cuEventCreate(&decoded_[slot], 0), "cuEventCreate");
        !s.ok())
      return s;
  }
  if (Status s = pinned(2 * sizeof(int32_t), drawnHost); !s.ok())
    return s;
  drawnHost_ = static_cast<int32_t *>(drawnHost);
  if (Status s = pinned(rows * vocab * sizeof(float), logitsHost); !s.ok())
    return s;
  tokensBytes_ = batch * chunk * sizeof(int32_t);
  if (Status s = check(d.cuMemAlloc(&tokensOnDevice_, tokensBytes_),
                       "allocating the tokens on the GPU");
      !s.ok())
    return s;
  if (Status s =
          check(d.cuMemAlloc(&positionsOnDevice_, settingsBytes_),
                "allocating the positions, lengths and sampling settings on "
                "the GPU");
      !s.ok())
    return s;
  CUdeviceptr logitsOnDevice = 0, workspaceOnDevice = 0, nextOnDevice = 0;
  if (Status s = check(d.cuMemAlloc(&logitsOnDevice, logitsBytes),
                       "allocating the logits on the GPU");
      !s.ok())
    return s;
  if (Status s =
          check(d.cuMemAlloc(&nextOnDevice, batch * rows * sizeof(int32_t)),
                "allocating the next tokens on the GPU");
      !s.ok())
    return s;
  if (Status s = check(
          d.cuMemAlloc(&workspaceOnDevice, workspaceBytes ? workspaceBytes : 1),
          "allocating the activations' workspace on the GPU");
      !s.ok())
    return s;
  vocab_ = vocab;
  logitsHost_ = static_cast<float *>(logitsHost);
  weights = reinterpret_cast<const uint8_t *>(weightsOnDevice);
  kvCache = reinterpret_cast<float *>(kv);
  batch_ = batch;
  useInputs(0);
  logits = reinterpret_cast<float *>(logitsOnDevice);
  workspace = reinterpret_cast<uint8_t *>(workspaceOnDevice);
  next = reinterpret_cast<int32_t *>(nextOnDevice);

  useGraphs_ = d.hasGraphs() && !switchedOn("LLAMAC_DISABLE_CUDA_GRAPHS");
  aheadAllowed_ = !switchedOn("LLAMAC_DISABLE_DECODE_AHEAD");
  Session &session = cuda::session();
  session.driver = driver_;
  // The kernels of an sm_90 executable wait for the kernel before them
  // (llama-overlap-launches), so their launches may overlap its end.
  session.overlapLaunches = info.cuda_arch >= 90 && d.cuLaunchKernelEx &&
                            !switchedOn("LLAMAC_DISABLE_PDL");
  if (Status s = check(d.cuStreamCreate(&session.stream, 0), "cuStreamCreate");
      !s.ok())
    return s;
  return loadKernelModules();
}

std::string CudaMemory::memoryReport() {
  if (!switchedOn("LLAMAC_GPU_MEMORY_REPORT"))
    return {};
  const Driver &d = *driver_;
  size_t freeBytes = 0, totalBytes = 0;
  if (d.cuMemGetInfo(&freeBytes, &totalBytes) != CUDA_SUCCESS)
    return "gpu memory: cuMemGetInfo failed";
  // The high-water marks of the graphs' memory nodes and of the pool that
  // eager calls' temporaries come from (0 where the driver cannot say).
  uint64_t graphsReserved = 0, graphsUsed = 0, poolReserved = 0;
  if (d.cuDeviceGetGraphMemAttribute) {
    d.cuDeviceGetGraphMemAttribute(device_, CU_GRAPH_MEM_ATTR_RESERVED_MEM_HIGH,
                                   &graphsReserved);
    d.cuDeviceGetGraphMemAttribute(device_, CU_GRAPH_MEM_ATTR_USED_MEM_HIGH,
                                   &graphsUsed);
  }
  if (d.cuMemPoolGetAttribute && pool_)
    d.cuMemPoolGetAttribute(pool_, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH,
                            &poolReserved);
  const size_t used = totalBytes - freeBytes;
  const double rest = mib(used) - mib(usedAtStart_) - mib(weightBytes_) -
                      mib(kvBytes_) - mib(logitsBytes_) - mib(workspaceBytes_) -
                      mib(graphsReserved) - mib(poolReserved);
  return format("gpu memory: %.1f MiB in use at exit = %.1f before the "
                "first allocation (the CUDA context; other processes) + "
                "weights %.1f + KV cache %.1f + logits %.1f + activations "
                "%.1f + CUDA graphs' temporaries %.1f reserved (%.1f at most "
                "in use) + the stream-ordered pool's %.1f + the rest %.1f "
                "(kernel modules, tokens, positions, next tokens)",
                mib(used), mib(usedAtStart_), mib(weightBytes_), mib(kvBytes_),
                mib(logitsBytes_), mib(workspaceBytes_), mib(graphsReserved),
                mib(graphsUsed), mib(poolReserved), rest);
}

// The entry's launches, recorded from the stream rather than run (the
// compiler plans the temporaries into the workspace, so a graph holds no
// memory nodes unless a kernel allocates at run time).
Status CudaMemory::record(EntryPoint entry, Enqueue how, CUgraphExec &graph) {
  Session &session = cuda::session();
  if (Status s = check(driver_->cuStreamBeginCapture(
                           session.stream, CU_STREAM_CAPTURE_MODE_RELAXED),
                       "recording a CUDA graph (cuStreamBeginCapture)");
      !s.ok())
    return s;
  enqueueReplayable(entry, how);
  CUgraph recorded = nullptr;
  CUresult ended = driver_->cuStreamEndCapture(session.stream, &recorded);
  if (!session.error.empty()) {
    if (recorded)
      driver_->cuGraphDestroy(recorded);
    return fail("%s", session.error.c_str());
  }
  if (Status s = check(ended, "recording a CUDA graph (cuStreamEndCapture)");
      !s.ok())
    return s;
  Status s = check(driver_->cuGraphInstantiateWithFlags(&graph, recorded, 0),
                   "instantiating a CUDA graph");
  driver_->cuGraphDestroy(recorded);
  return s;
}

void CudaMemory::useInputs(int slot) {
  slot_ = slot;
  tokens = tokensIn_[slot];
  positions = settingsIn_[slot];
  lengths = positions + batch_;
  sampling = reinterpret_cast<double *>(lengths + batch_);
}

// A replayable entry's call on the stream: this call's tokens, positions,
// lengths and sampling settings to the device, then the entry's launches,
// which read them there.
void CudaMemory::enqueueReplayable(EntryPoint entry, Enqueue how) {
  Session &session = cuda::session();
  if (how.drawn)
    session.check(driver_->cuMemcpyDtoDAsync(
                      tokensOnDevice_, reinterpret_cast<CUdeviceptr>(next),
                      batch_ * sizeof(int32_t), session.stream),
                  "copying the drawn tokens to the next call's");
  else
    session.check(driver_->cuMemcpyHtoDAsync(tokensOnDevice_,
                                             tokensIn_[how.slot], tokensBytes_,
                                             session.stream),
                  "copying the tokens to the GPU");
  int64_t *settings = settingsIn_[how.slot];
  session.check(driver_->cuMemcpyHtoDAsync(positionsOnDevice_, settings,
                                           settingsBytes_, session.stream),
                "copying the positions, lengths and sampling settings to the "
                "GPU");
  // Each part of the settings at its offset in the device copy.
  auto onDevice = [&](const int64_t *part) {
    return reinterpret_cast<const int64_t *>(positionsOnDevice_) +
           (part - settings);
  };
  entry(reinterpret_cast<const int32_t *>(tokensOnDevice_), onDevice(settings),
        onDevice(settings + batch_),
        reinterpret_cast<const double *>(onDevice(settings + 2 * batch_)),
        kvCache, weights, logits, next, workspace);
  if (how.copyBack)
    session.check(
        driver_->cuMemcpyDtoHAsync(drawnHost_ + how.slot,
                                   reinterpret_cast<CUdeviceptr>(next),
                                   sizeof(int32_t), session.stream),
        "copying the next token from the GPU");
}

Status CudaMemory::graphFor(EntryPoint entry, Enqueue how, CUgraphExec &graph) {
  auto found = graphs_.find({entry, how.key()});
  if (found == graphs_.end()) {
    if (Status s = record(entry, how, graph); !s.ok())
      return s;
    found = graphs_.emplace(std::make_pair(entry, how.key()), graph).first;
  }
  graph = found->second;
  return Status::success();
}

Status CudaMemory::prepare(EntryPoint entry, bool replayable) {
  if (!replayable || !useGraphs_)
    return Status::success();
  CUgraphExec graph = nullptr;
  return graphFor(entry, Enqueue{}, graph);
}

// The three ways Generator's decoding ahead starts calls: the first on slot
// 0 with the host's token, the others on either slot with the draws.
Status CudaMemory::prepareDecodeAhead(EntryPoint entry) {
  if (!useGraphs_)
    return Status::success();
  CUgraphExec graph = nullptr;
  for (Enqueue how : {Enqueue{0, false, true}, Enqueue{0, true, true},
                      Enqueue{1, true, true}})
    if (Status s = graphFor(entry, how, graph); !s.ok())
      return s;
  return Status::success();
}

Status CudaMemory::launch(EntryPoint entry, Enqueue how) {
  Session &session = cuda::session();
  if (!useGraphs_) {
    enqueueReplayable(entry, how);
    return Status::success();
  }
  CUgraphExec graph = nullptr;
  if (Status s = graphFor(entry, how, graph); !s.ok())
    return s;
  session.check(driver_->cuGraphLaunch(graph, session.stream),
                "launching a CUDA graph");
  return Status::success();
}

Status CudaMemory::run(EntryPoint entry, bool replayable) {
  if (!replayable) {
    entry(tokens, positions, lengths, sampling, kvCache, weights, logits, next,
          workspace);
    return finishCall();
  }
  if (Status s = launch(entry, Enqueue{slot_, false, false}); !s.ok())
    return s;
  return finishCall();
}

Status CudaMemory::startDecode(EntryPoint entry, int slot, bool drawnTokens) {
  Session &session = cuda::session();
  if (Status s = launch(entry, Enqueue{slot, drawnTokens, true}); !s.ok())
    return s;
  session.check(driver_->cuEventRecord(decoded_[slot], session.stream),
                "cuEventRecord");
  if (!session.error.empty())
    return fail("%s", session.error.c_str());
  return Status::success();
}

Status CudaMemory::awaitDecode(int slot, int32_t &token) {
  Session &session = cuda::session();
  if (session.error.empty())
    session.check(driver_->cuEventSynchronize(decoded_[slot]),
                  "running the model's kernels");
  if (!session.error.empty())
    return fail("%s", session.error.c_str());
  token = drawnHost_[slot];
  return Status::success();
}

Status CudaMemory::finishCall() {
  Session &session = cuda::session();
  if (session.error.empty())
    session.check(driver_->cuStreamSynchronize(session.stream),
                  "running the model's kernels");
  if (!session.error.empty())
    return fail("%s", session.error.c_str());
  return Status::success();
}

// Sequence 0's rows come first in the [batch, rows, vocab] logits.
Status CudaMemory::readLogits(int64_t first, int64_t count,
                              const float *&rows) {
  const size_t offset = static_cast<size_t>(first) * vocab_;
  if (Status s = check(driver_->cuMemcpyDtoH(
                           logitsHost_ + offset,
                           reinterpret_cast<CUdeviceptr>(logits) +
                               offset * sizeof(float),
                           static_cast<size_t>(count) * vocab_ * sizeof(float)),
                       "copying the logits from the GPU");
      !s.ok())
    return s;
  rows = logitsHost_;
  return Status::success();
}

Status CudaMemory::readNext(int64_t row, int32_t &token) {
  return check(driver_->cuMemcpyDtoH(&token,
                                     reinterpret_cast<CUdeviceptr>(next + row),
                                     sizeof(int32_t)),
               "copying the next token from the GPU");
}

} // namespace

Status makeCudaMemory(const llamac_model_info &info, const uint8_t *weights,
                      std::unique_ptr<ModelMemory> &out) {
  auto memory = std::make_unique<CudaMemory>();
  if (Status s = memory->init(info, weights); !s.ok())
    return s;
  out = std::move(memory);
  return Status::success();
}

} // namespace llamac::rt
