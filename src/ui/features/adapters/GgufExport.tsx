/** GGUF downloads for llama.cpp, Ollama and LM Studio: an adapter, an adapter merged into the loaded model, or the model, with the Ollama Modelfile. */
import type { GgufWhat } from '../../../worker/api';
import { useLibrary } from './store';

/** The types each kind of GGUF can be written in (adapters are small: f32 / f16 only). */
const TYPES: Record<GgufWhat, { value: string; label: string }[]> = {
  adapter: [{ value: 'f16', label: 'f16' }, { value: 'f32', label: 'f32' }],
  merged: [
    { value: 'f16', label: 'f16' }, { value: 'q8_0', label: 'Q8_0' }, { value: 'q4_k_m', label: 'Q4_K_M' }, { value: 'q4_0', label: 'Q4_0' }, { value: 'f32', label: 'f32' },
  ],
  base: [{ value: 'f16', label: 'f16' }, { value: 'q8_0', label: 'Q8_0' }, { value: 'q4_k_m', label: 'Q4_K_M' }, { value: 'q4_0', label: 'Q4_0' }, { value: 'f32', label: 'f32' }],
};

export function GgufExport({ modelName }: { modelName: string | null }) {
  const lib = useLibrary();
  const { what, type, adapterId } = lib.gguf;
  const busy = lib.busy !== null;
  const types = TYPES[what];
  const chosen = adapterId || lib.adapters[0]?.id || '';
  const setWhat = (w: GgufWhat) => lib.setGguf({ what: w, type: TYPES[w].some((t) => t.value === type) ? type : TYPES[w][0].value });
  return (
    <section aria-labelledby="gguf-title">
      <h3 id="gguf-title">GGUF for llama.cpp, Ollama, LM Studio</h3>
      <div className="row">
        <label htmlFor="gguf-what">Export</label>
        <select id="gguf-what" value={what} onChange={(e) => setWhat(e.target.value as GgufWhat)}>
          <option value="adapter">LoRA adapter</option>
          <option value="merged">adapter merged into the model</option>
          <option value="base">base model alone</option>
        </select>
        {what !== 'base' && (
          <>
            <label htmlFor="gguf-adapter">Adapter</label>
            <select id="gguf-adapter" value={chosen} onChange={(e) => lib.setGguf({ adapterId: e.target.value })} disabled={lib.adapters.length === 0}>
              {lib.adapters.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          </>
        )}
        <label htmlFor="gguf-type">Type</label>
        <select id="gguf-type" value={type} onChange={(e) => lib.setGguf({ type: e.target.value })}>
          {types.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
        <button type="button" onClick={() => void lib.exportGguf()} disabled={busy || !modelName || (what !== 'base' && !chosen)}>Download GGUF</button>
        {lib.modelfile && (
          <button type="button" onClick={() => lib.downloadModelfile()} aria-label={`Download Modelfile: ${lib.modelfile.name} for Ollama`}>Download Modelfile</button>
        )}
      </div>
      <p className="help">
        Written from the loaded model ({modelName ?? 'none loaded'}). Q4_K_M is llama-quantize&apos;s mix; rows shorter than 256 values (small models)
        get its fallbacks (Q5_0, Q8_0). An adapter GGUF runs on the base model&apos;s GGUF (<code>llama-cli -m base.gguf --lora adapter.gguf</code>);
        the Modelfile is what <code>ollama create</code> reads.
      </p>
    </section>
  );
}
