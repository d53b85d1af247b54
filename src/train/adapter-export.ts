import type { PeftAdapter } from '../io/peft';
import { readLoraTensors, type FlatVector } from '../model/graph/lora-state';
import { loraConfigOf, type TrainGraph } from '../model/graph/train-graph';

/**
 * The trained LoRA weights of a graph as a PEFT adapter (one readback); `params` another flat
 * vector in the graph's layout, e.g. `g.lora.best` (early stopping's best evaluation).
 */
export async function adapterFromGraph(g: TrainGraph, baseModel: string, params: FlatVector = g.lora.params): Promise<PeftAdapter> {
  const tensors = await readLoraTensors(g.engine, params, g.layout);
  return {
    config: loraConfigOf(g.run),
    baseModel,
    tensors: g.layout.slots.map((s) => ({
      path: s.path, module: s.module, layer: s.layer, r: s.r, alpha: s.alpha, inFeatures: s.inFeatures, outFeatures: s.outFeatures,
      A: tensors.get(s.path)!.A, B: tensors.get(s.path)!.B,
      ...(tensors.get(s.path)!.M ? { M: tensors.get(s.path)!.M } : {}),
    })),
  };
}
