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

// sm_80 has no griddepcontrol: nothing changes.
// CHECK-LABEL: gpu.module @ampere
// CHECK-NOT:   nvvm.griddepcontrol
gpu.module @ampere [#nvvm.target<chip = "sm_80">] {
  gpu.func @k(%out: memref<4xf32>) kernel {
    %t = gpu.thread_id x
    %one = arith.constant 1.0 : f32
    memref.store %one, %out[%t] : memref<4xf32>
    gpu.return
  }
}
