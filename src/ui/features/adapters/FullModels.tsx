/**
 * The library's fully finetuned models (runs with Method: Full finetuning): name and note, base
 * model, size, date, the run they came from, a download that from_pretrained loads, a GGUF for
 * llama.cpp and Ollama, "Try" in the playground, delete with undo.
 */
import { useEffect } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { ProgressBar } from '../../components/ProgressBar';
import { NameNoteEditor } from '../../components/NameNoteEditor';
import { bytes, count, date } from '../../components/format';
import { useSession } from '../../stores/session';
import { FullModelGguf } from './FullModelGguf';
import { useFullModels } from './full-models-store';

export function FullModels() {
  const lib = useFullModels();
  const version = useSession((s) => s.libraryVersion);
  const model = useSession((s) => s.model);
  const tryFullModel = useSession((s) => s.tryFullModel);
  useEffect(() => { void lib.refresh(); }, [version]); // eslint-disable-line react-hooks/exhaustive-deps
  const busy = lib.busy !== null;
  return (
    <section aria-labelledby="full-models-title" data-testid="full-models">
      <h3 id="full-models-title">Fully finetuned models</h3>
      {lib.busy && <p role="status" className="muted">{lib.busy}…</p>}
      {lib.progress && <ProgressBar label={lib.progress.label} value={lib.progress.value} detail={lib.progress.detail} />}
      {lib.message && <p role="status" className="note info" data-testid="full-model-message">{lib.message}</p>}
      <ErrorBox error={lib.error} testId="full-models-error" />
      {lib.models.length === 0 ? <p className="muted">None yet: a run with Method: Full finetuning (Configure) keeps its whole model here.</p> : (
        <div className="table-scroll"><table className="dense" data-testid="full-models-table">
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Base model</th><th scope="col">Params</th><th scope="col">Size</th><th scope="col">Created</th><th scope="col">Run</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {lib.models.map((m) => (
              <tr key={m.id} data-testid="full-model-row">
                <td><NameNoteEditor kind="model" name={m.name} note={m.note} onSave={(p) => lib.edit(m.id, p)} testId="full-model-name" /></td>
                <td>{m.baseModel}</td>
                <td title="every weight of the base model was trained">{count(m.trainableParams)}</td>
                <td>{bytes(m.sizeBytes)}</td>
                <td>{date(m.createdAt)}</td>
                <td>
                  {m.runConfig ? `${m.runConfig.optimizer}, lr ${m.runConfig.learningRate}` : '–'}
                  {m.fromStep && <div className="muted small">weights of step {m.fromStep.step} (best validation loss {m.fromStep.valLoss.toFixed(4)})</div>}
                </td>
                <td className="actions"><div className="row">
                  <button type="button" onClick={() => void lib.download(m.id)} disabled={busy} aria-label={`Download (zip): ${m.name} as a Hugging Face model folder`}>Download (zip)</button>
                  <button type="button" onClick={() => tryFullModel(m.id)} disabled={!model}
                    title={model && model.name !== m.baseModel ? `load ${m.baseModel} in Model & data to try it` : undefined} aria-label={`Try ${m.name} in the playground`}>Try</button>
                  <button type="button" className="danger" onClick={() => void lib.remove(m.id)} disabled={busy} aria-label={`Delete ${m.name}`}>Delete</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      <p className="help">Each download is a folder in Hugging Face layout, ready for AutoModelForCausalLM.from_pretrained: model.safetensors (f32), config.json, generation_config.json, the tokenizer files and a model card.</p>
      {lib.models.length > 0 && <FullModelGguf models={lib.models} />}
      {lib.models.length > 0 && (
        <p className="help">
          The GGUF is the whole model in one file for llama.cpp, Ollama and LM Studio (<code>llama-cli -m model.gguf</code>), its tokenizer from the model&apos;s own files;
          the Modelfile is what <code>ollama create</code> reads. Q4_K_M gives rows shorter than 256 values (small models) its fallbacks (Q5_0, Q8_0).
        </p>
      )}
    </section>
  );
}
