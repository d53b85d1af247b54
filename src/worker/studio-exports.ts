/** The StudioApi calls that export a finetune (GGUF of an adapter, a merge or a finetuned model; cluster trainer files), over the worker's state. */
import * as Comlink from 'comlink';
import { isGgufExportType, GGUF_EXPORT_TYPES } from '../io/gguf/tensor-types';
import { TRAINERS, type TrainerName } from '../io/trainers';
import type { StudioApi } from './api';
import { ggufDownload, trainerDownload } from './exports';
import { fullModelGguf } from './full-model-gguf';
import type { StudioState } from './studio-state';

export function exportsApi(s: StudioState): Pick<StudioApi, 'exportGguf' | 'exportFullModelGguf' | 'exportTrainer'> {
  return {
    async exportGguf(req, onProgress) {
      if (!isGgufExportType(req.type)) throw new Error(`GGUF type "${req.type}" is not one of ${GGUF_EXPORT_TYPES.join(', ')}`);
      if (!['adapter', 'merged', 'base'].includes(req.what)) throw new Error(`a GGUF of "${req.what}": choose adapter, merged or base`);
      const model = s.loaded.needModel('a GGUF export (the adapter is checked against it, and merged into it)');
      return ggufDownload(model, s.adapters, { what: req.what, type: req.type, adapterId: req.adapterId }, onProgress);
    },
    async exportFullModelGguf(id, type, onProgress) {
      if (!isGgufExportType(type)) throw new Error(`GGUF type "${type}" is not one of ${GGUF_EXPORT_TYPES.join(', ')}`);
      return fullModelGguf(s.fullModels, id, type, s.loaded.model, onProgress);
    },
    async exportTrainer(runId, trainer) {
      if (!(TRAINERS as readonly string[]).includes(trainer)) throw new Error(`unknown trainer "${trainer}"; one of ${TRAINERS.join(', ')}`);
      const run = await s.runs.get(runId);
      if (!run) throw new Error(`run ${runId} is not in Runs (deleted in another tab?)`);
      const kept = await s.runInputs.get(runId).catch(() => undefined);
      const d = await trainerDownload(run, trainer as TrainerName, s.loaded.model, { kept, keptFile: (k) => s.runInputs.dataset(k), loaded: s.loaded.dataset });
      return Comlink.transfer(d, [d.bytes.buffer as ArrayBuffer]);
    },
  };
}
