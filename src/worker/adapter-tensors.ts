import { bytesSource } from '../io/safetensors';
import { importPeftAdapter } from '../io/peft';
import type { AdapterStore } from '../io/stores/adapters';
import type { ModelConfig } from '../config/model-config';

/** A stored adapter's LoRA tensors by module path, checked against the model. */
export async function adapterTensors(store: AdapterStore, id: string, model: ModelConfig): Promise<Map<string, { A: Float32Array; B: Float32Array; M?: Float32Array; r: number; alpha: number }>> {
  const meta = await store.meta(id);
  const files = await store.files(id);
  const peft = await importPeftAdapter(bytesSource(files.weights, meta?.name ?? 'adapter_model.safetensors'), files.configJson, model);
  return new Map(peft.tensors.map((t) => [t.path, { A: t.A, B: t.B, ...(t.M ? { M: t.M } : {}), r: t.r, alpha: t.alpha }]));
}
