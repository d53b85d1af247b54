/** GGUF of a fully finetuned model for llama.cpp, Ollama and LM Studio: the model itself, in one file, with its Ollama Modelfile. */
import type { FullModelMeta } from '../../../worker/api';
import { useFullModels } from './full-models-store';

/** The types a model's GGUF can be written in (as for a merged model). */
const TYPES = [
  { value: 'q8_0', label: 'Q8_0' }, { value: 'f16', label: 'f16' }, { value: 'q4_k_m', label: 'Q4_K_M' }, { value: 'q4_0', label: 'Q4_0' }, { value: 'f32', label: 'f32' },
];

export function FullModelGguf({ models }: { models: FullModelMeta[] }) {
  const lib = useFullModels();
  const busy = lib.busy !== null;
  const chosen = models.some((m) => m.id === lib.gguf.id) ? lib.gguf.id : models[0]?.id ?? '';
  return (
    <div className="row inline" data-testid="full-model-gguf">
      <label htmlFor="full-gguf-model">GGUF of</label>
      <select id="full-gguf-model" value={chosen} onChange={(e) => lib.setGguf({ id: e.target.value })} disabled={models.length === 0}>
        {models.map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
      </select>
      <label htmlFor="full-gguf-type">Type</label>
      <select id="full-gguf-type" value={lib.gguf.type} onChange={(e) => lib.setGguf({ type: e.target.value })}>
        {TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
      </select>
      <button type="button" onClick={() => { lib.setGguf({ id: chosen }); void lib.exportGguf(); }} disabled={busy || !chosen}>Download GGUF</button>
      {lib.modelfile && (
        <button type="button" onClick={() => lib.downloadModelfile()} aria-label={`Download Modelfile: ${lib.modelfile.name} for Ollama`}>Download Modelfile</button>
      )}
    </div>
  );
}
