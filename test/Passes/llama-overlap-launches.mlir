// RUN: llamac-opt %s --llama-overlap-launches | FileCheck %s

// sm_90: every kernel lets the next launch, then waits for the one before,
// before anything else.
// CHECK-LABEL: gpu.module @hopper
// CHECK:       gpu.func @k(%{{.*}}: memref<4xf32>) kernel
// CHECK-NEXT:    nvvm.griddepcontrol launch_dependents
// CHECK-NEXT:    nvvm.griddepcontrol wait
// CHECK-NEXT:    gpu.thread_id
// A device function is not launched: left alone.
// CHECK:       gpu.func @helper()
// CHECK-NOT:     nvvm.griddepcontrol
// CHECK:         gpu.return
gpu.module @hopper [#nvvm.target<chip = "sm_90">] {
  gpu.func @k(%out: memref<4xf32>) kernel {
    %t = gpu.thread_id x
    %one = arith.constant 1.0 : f32
    memref.store %one, %out[%t] : memref<4xf32>
    gpu.return
  }
  gpu.func @helper() {
    gpu.return
  }
}

// A kernel that reads the weights first (llama-map-to-gpu's GEMVs) waits
// at its top-level llama.await_earlier_kernels instead: those loads go out
// before the wait.
// CHECK-LABEL: gpu.module @early_weights
// CHECK:       gpu.func @k(%[[W:.*]]: memref<64xbf16>, %[[X:.*]]: memref<64xf32>, %{{.*}}: memref<64xf32>) kernel
// CHECK-NEXT:    nvvm.griddepcontrol launch_dependents
// CHECK-NEXT:    gpu.thread_id
// CHECK-NEXT:    memref.load %[[W]]
// CHECK-NEXT:    nvvm.griddepcontrol wait
// CHECK-NEXT:    memref.load %[[X]]
// CHECK-NOT:     llama.await_earlier_kernels
// Markers in branches (launches merged by llama-merge-launches) do not
// count: the kernel waits at its top, and they go.
// CHECK:       gpu.func @merged
// CHECK-NEXT:    nvvm.griddepcontrol launch_dependents
// CHECK-NEXT:    nvvm.griddepcontrol wait
// CHECK-NOT:     llama.await_earlier_kernels
// CHECK:         gpu.return
gpu.module @early_weights [#nvvm.target<chip = "sm_90">] {
  gpu.func @k(%w: memref<64xbf16>, %x: memref<64xf32>, %out: memref<64xf32>) kernel {
    %t = gpu.thread_id x
    %a = memref.load %w[%t] : memref<64xbf16>
    llama.await_earlier_kernels
    %b = memref.load %x[%t] : memref<64xf32>
    %e = arith.extf %a : bf16 to f32
    %p = arith.mulf %e, %b : f32
    memref.store %p, %out[%t] : memref<64xf32>
    gpu.return
  }
  gpu.func @merged(%w: memref<64xbf16>, %out: memref<64xf32>) kernel {
    %t = gpu.thread_id x
    %c32 = arith.constant 32 : index
    %first = arith.cmpi ult, %t, %c32 : index
    scf.if %first {
      %a = memref.load %w[%t] : memref<64xbf16>
      llama.await_earlier_kernels
      %e = arith.extf %a : bf16 to f32
      memref.store %e, %out[%t] : memref<64xf32>
    }
    gpu.return
  }
}

// sm_80 has no griddepcontrol: nothing changes but the markers, which go.
// CHECK-LABEL: gpu.module @ampere
// CHECK-NOT:   nvvm.griddepcontrol
// CHECK-NOT:   llama.await_earlier_kernels
// CHECK:       gpu.return
gpu.module @ampere [#nvvm.target<chip = "sm_80">] {
  gpu.func @k(%out: memref<4xf32>) kernel {
    %t = gpu.thread_id x
    %one = arith.constant 1.0 : f32
    llama.await_earlier_kernels
    memref.store %one, %out[%t] : memref<4xf32>
    gpu.return
  }
}
