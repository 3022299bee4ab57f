//===- Passes.td - llamac passes ------------------------------*- tablegen -*-===//
//
// Every pass of the project, alphabetical, arguments prefixed llama-.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_TD
#define LLAMAC_PASSES_TD

include "mlir/Pass/PassBase.td"

def LlamaExportEntryPoints : Pass<"llama-export-entry-points", "::mlir::ModuleOp"> {
  let summary = "Give each entry point the runtime's bare-pointer C ABI";
  let description = [{
    Runs after func-to-llvm, which passes every memref as its expanded
    descriptor (allocated and aligned pointers, offset, sizes, strides) —
    needed by kernels whose buffers have dynamic sizes or strided layouts.
    Each entry point, recognised by the `llama.entry_memrefs` attribute that
    llama-outline-kernels recorded while its arguments were still memrefs of
    static shape, is renamed `<name>_impl` with internal linkage, and a
    function with the original name takes one pointer per memref and calls
    it with the descriptors filled in from the static shapes: the ABI of
    runtime/include/llamac/abi/ModelABI.h. Functions marked `llama.kernel`
    get internal linkage and `no_inline`.

    ```mlir
    llvm.func @llamac_decode(%tokens: !llvm.ptr, ...) {
      llvm.call @llamac_decode_impl(%tokens, %tokens, %c0, %c1, %c1, %c1, %c1, ...)
      llvm.return
    }
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LlamaOutlineKernels : Pass<"llama-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Move each linalg op on buffers into a kernel function, one per distinct kernel";
  let description = [{
    After bufferization, every linalg op of the entry points becomes a call
    to a private kernel function that takes the op's buffers (and the
    values its body reads from above) as arguments. Ops that are the same
    computation on the same types — the same projection in each of the
    model's layers — share one kernel. The schedule (the entry point) then
    reads as a list of kernel launches, code size no longer grows with the
    number of layers, and LLVM compiles a few small functions instead of
    one enormous one (it would otherwise spend minutes on a 12-layer
    model). Kernels are marked `llama.kernel`, which llama-export-entry-points
    turns into internal linkage and `no_inline` so that they stay shared. Each
    entry point records its memref argument types as `llama.entry_memrefs`
    for llama-export-entry-points.

    ```mlir
    // Before
    linalg.generic {...} ins(%x, %w0 : memref<1x1x64xf32>, memref<64x64xf32>) outs(%y0 : ...)
    linalg.generic {...} ins(%x, %w1 : memref<1x1x64xf32>, memref<64x64xf32>) outs(%y1 : ...)
    // After
    call @kernel_generic_3(%x, %w0, %y0) : (...) -> ()
    call @kernel_generic_3(%x, %w1, %y1) : (...) -> ()
    func.func private @kernel_generic_3(...) attributes {llama.kernel} { linalg.generic ... }
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect"];
}

def LlamaFoldNormGains : Pass<"llama-fold-norm-gains", "::mlir::ModuleOp"> {
  let summary = "Move RMSNorm gains into the weights of the linear layers "
                "that read the norm";
  let description = [{
    On the llama dialect: `linear(rms_norm(x, g), W)` is `linear(rms_norm(x),
    W * diag(g))`. Where every reader of every norm with gains `g` is a
    linear layer whose weight no other op reads (not tied to the
    embeddings, not read without the norm) and is stored in f32 or bf16
    (not f16: its models compute in f32, and W * g rounded to f16 would
    move their logits by ~2.5e-4), those weights' params get
    `column_scale = @g` (the packer writes `W[n, k] * g[k]`, rounded to the
    stored type) and the norms lose their gains. A norm without gains is its
    input times a factor of its row alone, which llama-map-to-gpu applies
    after a decode GEMV that reads the norm's input itself: the norm's
    kernel goes.

    ```mlir
    // Before
    %h = llama.rms_norm %x, %g eps 1.0e-05 : tensor<1x1x64xf32>, tensor<64xf32>
    %q = llama.linear %h, %wq : ...
    // After (llama.param @wq ... {column_scale = @g})
    %h = llama.rms_norm %x eps 1.0e-05 : tensor<1x1x64xf32>
    %q = llama.linear %h, %wq : ...
    ```
  }];
}

def LlamaPlanWeights : Pass<"llama-plan-weights", "::mlir::ModuleOp"> {
  let summary = "Assign each llama.param its byte offset in the packed weights blob";
  let description = [{
    Lays out every `llama.param` of the module one after the other in a
    single blob, each at an offset aligned to `alignment` bytes, and records
    the blob's size on the module as `llama.weights_bytes`. The weight packer
    writes the blob in this layout, and the lowering reads each weight at its
    offset.

    ```mlir
    // Before
    llama.param @a : tensor<3xf32>
    llama.param @b : tensor<2x2xbf16>
    // After (alignment = 64)
    module attributes {llama.weights_bytes = 72 : i64} {
      llama.param @a : tensor<3xf32> {offset = 0 : i64}
      llama.param @b : tensor<2x2xbf16> {offset = 64 : i64}
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every tensor in the blob (a power of two)">,
  ];
}

def LlamaPlanWorkspace : Pass<"llama-plan-workspace", "::mlir::ModuleOp"> {
  let summary = "Place each entry point's temporaries at offsets in one "
                "workspace buffer, reusing the bytes of dead ones";
  let description = [{
    Bufferization frees every temporary at the end of its entry point, so
    all of a call's activations would be live at once. For each entry point
    (a function with `llama.entry_memrefs`, one block of kernel launches or
    calls), every static `memref.alloc` or `gpu.alloc` at its top level
    whose frees are there too gets a lifetime: from the first to the last
    top-level op that uses it or a view of it (a use inside a kernel counts
    where the launch is). The temporaries are placed, largest first, at the
    lowest `alignment`-aligned offset that no temporary live at the same
    time occupies; each allocation becomes a `memref.view` of a new last
    argument `memref<Nxi8>` and its frees go. The module records the
    largest N as `llama.workspace_bytes`: the runtime allocates that once
    and passes it to every entry point (they never run at the same time).

    ```mlir
    // Before
    %a = memref.alloc() : memref<64xf32>
    linalg.fill ins(%c0 : f32) outs(%a : memref<64xf32>)
    ... last use of %a ...
    %b = memref.alloc() : memref<32xf32>
    ...
    memref.dealloc %a : memref<64xf32>
    memref.dealloc %b : memref<32xf32>
    // After (the function gets %ws: memref<256xi8>)
    %a = memref.view %ws[%c0][] : memref<256xi8> to memref<64xf32>
    %b = memref.view %ws[%c0][] : memref<256xi8> to memref<32xf32>
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"256",
           "Byte alignment of every temporary in the workspace (a power "
           "of two)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LlamaToLinalg : Pass<"llama-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower the llama dialect to linalg, tensor, arith and math";
  let description = [{
    Rewrites every llama op into tensor-level linalg (generic contractions
    and elementwise ops), with the attention's KV-cache update as
    `tensor.insert_slice` at each sequence's position and its softmax over
    the keys `0 .. position` only. Weights become views of a blob argument:
    every function that reads a `llama.weight` gets a trailing
    `memref<Nxi8> {llama.weights}` argument (N = `llama.weights_bytes`; the
    attribute says no kernel of the call writes it), and each weight is
    `memref.view` at its planned offset. The llama.param declarations are
    dropped: they have served the packer by then.

    ```mlir
    // Before
    %w = llama.weight @w : tensor<8x16xbf16>
    %y = llama.linear %x, %w : tensor<1x1x16xf32>, tensor<8x16xbf16> -> tensor<1x1x8xf32>
    // After
    %v = memref.view %blob[%c64][] : memref<320xi8> to memref<8x16xbf16>
    %w = bufferization.to_tensor %v restrict : memref<8x16xbf16> to tensor<8x16xbf16>
    %y = linalg.generic {... ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x, %w : ...) outs(%zero : tensor<1x1x8xf32>) { mulf, addf }
    ```
  }];
  let options = [
    Option<"flashAttention", "flash-attention", "bool", /*default=*/"false",
           "Attention as llama.flash_attention (one pass over the keys, "
           "for targets that run it as one kernel) instead of linalg ops "
           "(scores, softmax, weighted sum)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LlamaOverlapLaunches : Pass<"llama-overlap-launches", "::mlir::ModuleOp"> {
  let summary = "Let each kernel launch before the one it follows ends "
                "(programmatic dependent launch, sm_90 and newer)";
  let description = [{
    For kernels of a `gpu.module` whose NVVM target is sm_90 or newer:
    each kernel first signals that the next kernel in the stream may start
    launching (`griddepcontrol.launch_dependents`: once every block of this
    grid has run it, the dependent grid's blocks get placed as this grid's
    blocks finish), then waits until the grid before it has completed and
    its writes are visible (`griddepcontrol.wait`), before anything else,
    or, where the kernel's body has one `llama.await_earlier_kernels` at
    its top level (`llama-map-to-gpu` puts one after a GEMV's first loads
    of weights, which no kernel writes), there. The order of memory effects
    is the stream's; the launch latency, the block placement and those
    loads of each kernel overlap the kernel before it. The runtime launches
    with the programmatic-serialization attribute; a kernel launched
    without it waits for nothing. On older targets the markers are erased.
    ```mlir
    gpu.module @k [#nvvm.target<chip = "sm_90">] {
      gpu.func @f() kernel {
        nvvm.griddepcontrol launch_dependents
        nvvm.griddepcontrol wait
        ...
    ```
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
}

def LlamaMergeSiblingLinears : Pass<"llama-merge-sibling-linears", "::mlir::ModuleOp"> {
  let summary = "Merge linear layers that read the same input and adjacent "
                "weights into one";
  let description = [{
    On tensors, after llama-to-linalg: linear layers (`out[.., n] += x[.., k]
    * w[n, k]`) that read the same `x` and whose weights lie back to back in
    the weights blob (q, k and v; gate and up: llama-plan-weights lays a
    layer's params out in order) become one linear layer over the merged
    rows, one `memref.view` of the blob, and each old result is a slice of
    the new one. A GPU then reads the rows of all of them in one kernel
    (one ramp-up and tail instead of three; k and v alone are too small to
    fill the GPU), with the same sums per row.

    ```mlir
    // Before (weights at offsets 0 and 8192 of the blob)
    %q = linalg.generic ... ins(%x, %wq : tensor<1x1x64xf32>, tensor<64x64xf16>) ...
    %k = linalg.generic ... ins(%x, %wk : tensor<1x1x64xf32>, tensor<16x64xf16>) ...
    // After
    %w = memref.view %blob[%c0][] : memref<10240xi8> to memref<80x64xf16>
    %qk = linalg.generic ... ins(%x, %wt : tensor<1x1x64xf32>, tensor<80x64xf16>) ...
    %q = tensor.extract_slice %qk[0, 0, 0] [1, 1, 64] [1, 1, 1]
    %k = tensor.extract_slice %qk[0, 0, 64] [1, 1, 16] [1, 1, 1]
    ```
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def LlamaAccumulateResiduals : Pass<"llama-accumulate-residuals",
                                    "::mlir::ModuleOp"> {
  let summary = "Accumulate a linear layer onto the residual it is added to";
  let description = [{
    On tensors, after llama-to-linalg: `x + y`, where `y` is a reduction
    (a linear layer) that starts from a fill of zeros and has no other
    reader, becomes that reduction starting from `x`. The sum is the same
    (the reduction adds its total to `x` where it would have added it to
    0, and `x + total` is `total + x`), one kernel fewer: the o and down
    projections' outputs go straight onto the residual stream.
    ```mlir
    // Before
    %zero = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x1x64xf32>)
    %y = linalg.generic {.. "reduction"] } ins(%a, %w : ..) outs(%zero : ..)
    %z = linalg.generic {all "parallel"} ins(%x, %y : ..) outs(%e : ..) { addf }
    // After
    %z = linalg.generic {.. "reduction"] } ins(%a, %w : ..) outs(%x : ..)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LlamaNarrowGemmActivations : Pass<"llama-narrow-gemm-activations",
                                      "::mlir::ModuleOp"> {
  let summary = "Round the f32 activations of bf16 linear layers to bf16";
  let description = [{
    On tensors, for a GPU: each linear layer over two or more tokens with
    bf16 weights (what llama-map-to-gpu runs on mma.sync; decode's one-token
    GEMVs with the `gemvs` option, below) reads its activations rounded to bf16 (round to
    nearest even) by an elementwise op put before it, so that one bf16 mma
    a tile does what f32 activations need two for (their hi + lo terms),
    and half the bytes cross into shared memory. The products and sums stay
    f32. This is what PyTorch's bf16 models and llama.cpp's CUDA GEMMs do;
    llama-fuse-elementwise then folds the rounding into the op that
    computes the activations (the RMSNorm's scaling, SwiGLU), which writes
    bf16 itself. With `gemvs`, any other linear layer over bf16 weights
    (decode's GEMVs, on the CUDA cores) whose activations
    such an op computes reads them rounded too (the rounding placed right
    after that op, named after it): each of its warps re-reads the
    activations for every weight row it takes, 2 bytes an element instead
    of 4 (the attention's output, which no elementwise op computes, stays
    f32: a rounding kernel of its own would cost more than it saves).
    ```mlir
    // Before
    %y = linalg.generic {..} ins(%x, %w : tensor<1x128x512xf32>, tensor<768x512xbf16>) ..
      ^bb0(%a: f32, %b: bf16, %acc: f32): .. mulf %a, (extf %b) ..
    // After
    %xb = linalg.generic {all "parallel"} ins(%x : ..xf32>) outs(%e : ..xbf16>) { truncf }
    %y = linalg.generic {..} ins(%xb, %w : tensor<1x128x512xbf16>, tensor<768x512xbf16>) ..
      ^bb0(%a: bf16, %b: bf16, %acc: f32): .. mulf (extf %a), (extf %b) ..
    ```
  }];
  let options = [
    Option<"gemvs", "gemvs", "bool", /*default=*/"false",
           "Also the other linear layers with bf16 weights (decode's "
           "one-token GEMVs) whose activations an elementwise op computes "
           "(the RMSNorms' scaling, SwiGLU): the "
           "rounding folds into that op, and every warp of the GEMV reads "
           "2 bytes of activations an element instead of 4">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LlamaFuseElementwise : Pass<"llama-fuse-elementwise", "::mlir::ModuleOp"> {
  let summary = "Fuse an elementwise op into the elementwise op that alone "
                "reads its result";
  let description = [{
    On tensors: an all-parallel `linalg.generic` whose result only one
    all-parallel linalg op reads (a named one such as `linalg.transpose` is
    generalized first) is fused into it (`linalg::fuseElementwiseOps`): the
    consumer computes the producer's value where it reads it. On a GPU
    that is one kernel fewer and no intermediate buffer, e.g. the new key's
    RoPE and its copy into the KV cache. Whole-tensor reshapes between the
    two (`extract_slice` of all of a tensor, `expand_shape`,
    `collapse_shape`: the attention's split of the merged q/k/v row into
    kv heads) do not stop it: the consumer reads the producer's tensor
    itself through a map that reindexes the reshape (row-major: linearized,
    then split by the producer's shape; simplified by the loops' static
    ranges: head h, element e of a `[1, 1, kv * 64]` row at `(0, 0,
    h * 64 + e)`). Reductions are left alone on either side (a producer
    folded into a linear layer would be recomputed for every output row).
    ```mlir
    // Before
    %r = linalg.generic {["parallel", "parallel"]} ins(%k, %cos, %sin ..) { rope }
    %t = linalg.transpose ins(%r : tensor<1x4x8xf32>) outs(%e : tensor<4x1x8xf32>)
          permutation = [1, 0, 2]
    // After
    %t = linalg.generic {indexing_maps = [transposed ..]} ins(%k, %cos, %sin ..)
          outs(%e : tensor<4x1x8xf32>) { rope }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LlamaMergeLaunches : Pass<"llama-merge-launches", "::mlir::ModuleOp"> {
  let summary = "Merge consecutive independent gpu.launch ops into one";
  let description = [{
    After `llama-map-to-gpu`: two `gpu.launch` ops in a row with constant
    one-dimensional grids and blocks, where neither writes memory the
    other reads or writes, become one launch whose first blocks run the
    first body and the rest the second (the branch is uniform in a block,
    so barriers stay valid). Blocks of different sizes take the larger;
    the threads past a body's own block skip it, so that body may have no
    barrier (nor shuffles, unless its block is whole warps). A small kernel's
    launch latency is then paid once for the group: the query's RoPE, the
    key's and the value's copies into the KV cache are one kernel.

    Memory is told apart by its root: distinct allocations and distinct
    entry-point arguments never overlap; two subviews taken on one root
    itself overlap unless some dimension's static ranges are disjoint (the
    cache's key and value slots of a layer); any other pair of views of one
    root (a reshape before the subview, a dynamic offset) is taken to
    overlap. Only pure ops and allocations may stand
    between the two launches (the merged launch takes the second's place).
    ```mlir
    // Before
    gpu.launch blocks(%b, ..) in (%c4, ..) threads(%t, ..) in (%c256, ..) { A(%b) }
    gpu.launch blocks(%b, ..) in (%c2, ..) threads(%t, ..) in (%c256, ..) { B(%b) }
    // After
    gpu.launch blocks(%b, ..) in (%c6, ..) threads(%t, ..) in (%c256, ..) {
      scf.if %b < 4 { A(%b) } else { B(%b - 4) }
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect"];
}

def LlamaMapToGPU : Pass<"llama-map-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Map every linalg op on buffers to a gpu.launch, one thread "
                "per output element";
  let description = [{
    The plain first mapping onto an NVIDIA GPU. Each linalg op (after
    bufferization) becomes a `gpu.launch` over its thread dimensions (the
    parallel loops that index every output), 256 threads a block, grid
    sized at run time where a loop's size is dynamic; each thread runs the
    remaining loops (reductions) itself, writing only its own outputs.
    Reductions of 32 elements or more of the form `out + x` or
    `max(out, x)` get a warp per output (lane-strided loads, shuffles);
    where `x` is a product of two inputs contiguous and aligned along the
    reduction (a linear layer's row and activations), each lane loads 8
    consecutive elements of each with one vector load (16 bytes of bf16);
    where one of the two views the weights blob (the `{llama.weights}`
    argument), a warp's first iteration of weight loads comes before a
    `llama.await_earlier_kernels` at the kernel's top level, the rest
    after it (see `llama-overlap-launches`). A reduction whose temporary
    output only the next elementwise op reads, each of that op's blocks
    within one output's row (RMSNorm: the sum of squares, then the
    scaling), is not launched: the consumer's blocks compute their row's
    reduction themselves, warps as parts, and add the parts in the same
    order. Likewise a GEMV whose output only the next elementwise op reads,
    through views that each take a run of its rows (SwiGLU's gate and up
    halves), where that op has 4,096 elements or more: a warp per element
    computes the rows it reads (one loop; the activations loaded once) and
    lane 0 applies the op's body to their sums. `memref.alloc`/`dealloc` become `gpu.alloc`/`dealloc`, `memref.copy`
    becomes a kernel, constant globals a kernel reads move into it.
    ```mlir
    // Before
    linalg.generic {iterator_types = ["parallel", "reduction"]}
        ins(%w : memref<8x16xf32>) outs(%y : memref<8xf32>) { addf }
    // After
    gpu.launch blocks(%bx, ...) in (%c1, ...) threads(%tx, ...) in (%c32, ...) {
      %i = %bx * 32 + %tx
      scf.if %i < 8 {
        scf.for %k = 0 to 16 { %y[%i] += %w[%i, %k] }
      }
    }
    ```
  }];
  let options = [
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "GEMMs with bf16 activations as sm_90a warpgroup MMAs (wgmma, "
           "operands from shared memory) instead of mma.sync">,
    Option<"tma", "tma", "bool", /*default=*/"false",
           "with wgmma: the tiles of 64-deep slices loaded by the tensor "
           "memory accelerator (cp.async.bulk.tensor from tensor maps the "
           "host code asks the runtime for) by a producer warp instead of "
           "cp.async by every thread; experimental: the same results, no "
           "faster on an H200 (KERNEL_NOTES session 22)">,
    Option<"bf16Attention", "bf16-attention", "bool", /*default=*/"false",
           "prefill's tensor-core attention with Q, K, the probabilities "
           "and V rounded to bf16 (one m16n8k16 mma) instead of f32 "
           "precision from three tf32 mmas (llamac compile "
           "--attention-precision bf16, its default for bf16 checkpoints; "
           "KERNEL_NOTES sessions 22-23)">,
    Option<"clusters", "clusters", "bool", /*default=*/"false",
           "sm_90: decode's attention as one launch of thread block "
           "clusters whose blocks combine their splits of the keys in "
           "distributed shared memory, instead of a second kernel">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def LlamaSinkHostReads : Pass<"llama-sink-host-reads", "::mlir::ModuleOp"> {
  let summary = "Move the host's reads of the positions into the kernels, "
                "and mark the entry points whose launches are then the same "
                "on every call";
  let description = [{
    After `llama-map-to-gpu` the host code of an entry point reads the
    positions (`memref.load` of an entry argument: pinned host memory the
    GPU sees too) to offset the KV-cache views the kernels write and to
    size the views the attention reads. This clones each such read, and
    the index arithmetic and views built on it, into every `gpu.launch`
    that uses them, so the kernels read the position when they run.
    An entry point whose host code then reads no memory, whose launches
    have constant grids and whose buffers have static sizes makes the same
    launches on every call: its name goes into the module's
    `llama.replayable_entries`, and the runtime records it once as a CUDA
    graph and replays it.
    ```mlir
    // Before
    %p = memref.load %positions[%c0] : memref<1xi64>
    %i = arith.index_cast %p : i64 to index
    %row = memref.subview %cache[%i, 0] [1, 128] [1, 1] : ...
    gpu.launch ... { ... memref.store %x, %row[%c0, %t] ... }
    // After
    gpu.launch ... {
      %p = memref.load %positions[%c0] : memref<1xi64>
      %i = arith.index_cast %p : i64 to index
      %row = memref.subview %cache[%i, 0] [1, 128] [1, 1] : ...
      ... memref.store %x, %row[%c0, %t] ...
    }
    // and the module gets llama.replayable_entries = ["f"]
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LlamaMergeKernelModules : Pass<"llama-merge-kernel-modules",
                                   "::mlir::ModuleOp"> {
  let summary = "Move every outlined kernel into one gpu.module";
  let description = [{
    After gpu-kernel-outlining, each kernel sits in a gpu.module of its own,
    which would become a PTX module of its own (as many JIT compilations at
    start-up). This moves them all into the first module, renamed
    `@llamac_kernels`; each kernel takes its old module's (unique) name,
    globals cloned into several modules are kept once, and every
    `gpu.launch_func` is pointed at the kernel's new symbol. Each kernel's
    workgroup buffers get an `llvm.align` (the lowering would align them
    only to their element): 16 bytes (cp.async's 16-byte copies), 1,024
    for buffers of 1 KiB or more (wgmma's swizzled tiles).
    ```mlir
    // Before
    gpu.module @f_kernel_0 { gpu.func @f_kernel(...) kernel {...} }
    gpu.module @f_kernel_1 { gpu.func @f_kernel(...) kernel {...} }
    gpu.launch_func @f_kernel_1::@f_kernel ...
    // After
    gpu.module @llamac_kernels {
      gpu.func @f_kernel_0(...) kernel {...}
      gpu.func @f_kernel_1(...) kernel {...}
    }
    gpu.launch_func @llamac_kernels::@f_kernel_1 ...
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def LlamaVectorizeLinear : Pass<"llama-vectorize-linear", "::mlir::ModuleOp"> {
  let summary = "Register-tile and vectorize the host's linear layers";
  let description = [{
    Rewrites each linear layer's contraction on buffers,
    `out[b, s, n] += x[b, s, k] * w[n, k]` (the linalg.generic that
    llama-to-linalg writes for `llama.linear`; static shapes, k contiguous),
    into blocks of `tile-tokens` x `tile-rows` outputs (tokens left over, as
    in decode, one at a time with `decode-rows` rows) whose accumulators are
    `vector<lanes x f32>` registers over k: per step the block loads one
    vector per token and per weight row (widened to f32) and issues one FMA
    per pair, then sums each accumulator once. Weight rows are the outer
    loop, so a block of rows is read once per call. Outputs outside the
    blocks stay linalg.generic on subviews.
    ```mlir
    // Before
    linalg.generic (b, n, s, k) ins(%x, %w) outs(%out) { out + x * extf(w) }
    // After
    scf.for %n = 0 to 256 step 4 {
      scf.for %s = 0 to 16 step 2 {
        %acc:8 = scf.for %k = 0 to 128 step 8 iter_args(...) {
          %x0 = vector.load %x[%b, %s, %k] : vector<8xf32>    // x 2 tokens
          %w0 = vector.load %w[%n, %k] : vector<8xbf16>       // w 4 rows
          %f0 = vector.fma %x0, (extf %w0), %acc#0            // 8 FMAs
        }
        %y = vector.reduction <add>, %acc#0, %out[...]         // 8 sums
      }
    }
    ```
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"8",
           "f32 lanes per vector accumulator (8: one AVX2 register)">,
    Option<"tileTokens", "tile-tokens", "int64_t", /*default=*/"2",
           "tokens per block where the token count allows">,
    Option<"tileRows", "tile-rows", "int64_t", /*default=*/"4",
           "weight rows per block next to tile-tokens tokens">,
    Option<"decodeRows", "decode-rows", "int64_t", /*default=*/"8",
           "weight rows per block for single tokens">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // LLAMAC_PASSES_TD
