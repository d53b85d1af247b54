// The WebGPU engine's public surface: device + limits + fault routing, buffer pool and ledger,
// pipeline cache, readback/upload, and the kernel wrappers.
export * from './errors';
export * from './device';
export * from './flags';
export * from './pool';
export * from './pipelines';
export * from './readback';
export * from './upload';
export * from './context';
export * from './kernels/common';
export * from './kernels/matmul';
export * from './kernels/matmul-weight';
export * from './kernels/weights';
export * from './kernels/elementwise';
export * from './kernels/embedding';
export * from './kernels/rmsnorm';
export * from './kernels/rope';
export * from './kernels/swiglu';
export * from './kernels/attention-forward';
export * from './kernels/attention-backward';
export * from './kernels/cross-entropy';
export * from './kernels/dropout';
export * from './kernels/grad-norm';
export * from './kernels/optim';
export * from './kernels/attention-decode';
export * from './kernels/kv-cache';
export * from './kernels/matvec-weight';
