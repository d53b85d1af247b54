// The CPU reference: the executable specification of the training math (see DESIGN.md).
export * from './types';
export * from './ops/embedding';
export * from './ops/linear';
export * from './ops/lora';
export * from './ops/rmsnorm';
export * from './ops/rope';
export * from './ops/attention';
export * from './ops/swiglu';
export * from './ops/geglu';
export * from './ops/softcap';
export * from './ops/residual';
export * from './ops/cross-entropy';
export * from './ops/grad-norm';
export * from './optim';
export * from './dropout';
export { baseWeight, type LoraGrad, type LoraModule, type LoraWeights, type RefModel } from './projection';
export { forward, type ForwardCache, type ForwardOptions, type ForwardResult, type LayerCache } from './model';
export { backward, lossAndGrads } from './model-backward';
