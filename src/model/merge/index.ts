// Merging LoRA adapters (one, or several with a weight each) into a base checkpoint, streaming.
export { mergeAdapters, mergeAdaptersToBytes, writeMerge, type MergeBase, type MergeOptions, type MergeProgress, type MergeResult } from './merge';
export { planMerge, type BaseTensor, type Combination, type MergeBaseInfo, type MergePlan, type MergePlanOptions, type MergeStep, type WeightedAdapter } from './plan';
export { convertTensor, mergeLinear, outputArray, type DeltaTerm, type MergeDtype } from './delta';
export { SafetensorsStream, safetensorsLayout, type ByteSink, type SafetensorsLayout, type TensorEntry } from '../../io/safetensors/stream';
export { expectedShape } from './shapes';
