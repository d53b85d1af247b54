/** The adapters library: download as PEFT, import, try, continue training, delete, merge into the base; and the fully finetuned models. */
import { useEffect } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { FileDrop } from '../../components/FileDrop';
import { ProgressBar } from '../../components/ProgressBar';
import { useRunConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { targetsForModules } from '../../../config/lora-targets';
import type { AdapterMeta } from '../../../worker/api';
import { EvaluatePanel } from '../evaluate/EvaluatePanel';
import { AdapterRow } from './AdapterRow';
import { FullModels } from './FullModels';
import { GgufExport } from './GgufExport';
import { useLibrary } from './store';

export function AdaptersPanel() {
  const lib = useLibrary();
  const version = useSession((s) => s.libraryVersion);
  const model = useSession((s) => s.model);
  const training = useSession((s) => s.training);
  const tryAdapter = useSession((s) => s.tryAdapter);
  const continueTraining = useSession((s) => s.continueTraining);
  const patch = useRunConfig((s) => s.patch);
  useEffect(() => { void lib.refresh(); }, [version]); // eslint-disable-line react-hooks/exhaustive-deps
  const cont = (a: AdapterMeta) => {
    // A run that continues an adapter must have its shape: rank, alpha, patterns and targets.
    patch({ rank: a.lora.r, alpha: a.lora.alpha, useRslora: a.lora.useRslora, rankPattern: a.lora.rankPattern, alphaPattern: a.lora.alphaPattern, targets: targetsForModules(a.lora.targetModules) });
    continueTraining({ id: a.id, name: a.name });
  };
  const busy = lib.busy !== null;
  return (
    <section className="panel" aria-labelledby="lib-title">
      <h2 id="lib-title">Adapters</h2>
      {lib.busy && <p role="status" className="muted">{lib.busy}…</p>}
      {lib.progress && <ProgressBar label={lib.progress.label} value={lib.progress.value} detail={lib.progress.detail} />}
      {lib.message && <p role="status" className="note info">{lib.message}</p>}
      <ErrorBox error={lib.error} testId="library-error" />
      {lib.adapters.length === 0 ? <p className="muted">No adapters yet: every finished LoRA run saves one here, or import a PEFT adapter below.</p> : (
        <div className="table-scroll"><table className="dense" data-testid="adapters-table">
          <thead>
            <tr><th scope="col">Merge</th><th scope="col">Name</th><th scope="col">Base model</th><th scope="col">LoRA</th><th scope="col">Params</th><th scope="col">Size</th><th scope="col">Created</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {lib.adapters.map((a) => (
              <AdapterRow key={a.id} a={a} canTry={!!model} canContinue={training === 'idle'} onTry={() => tryAdapter(a.id)} onContinue={() => cont(a)} />
            ))}
          </tbody>
        </table></div>
      )}
      <FullModels />
      <EvaluatePanel adapters={lib.adapters} />
      <div className="lib-tools">
        <section aria-labelledby="merge-title">
          <h3 id="merge-title">Merge into the base model</h3>
          <p className="help">W += Σ weight × (alpha / r) × B A for each checked adapter, into the loaded base model ({model?.name ?? 'none loaded'}); downloads a zip that transformers&apos; from_pretrained loads as it is: 16-bit weights (sharded above 2 GB), config.json, generation_config.json, the tokenizer files and a model card.</p>
          <div className="row">
            <label htmlFor="merge-dtype">Precision</label>
            <select id="merge-dtype" value={lib.mergeDtype} onChange={(e) => lib.setMerge({ mergeDtype: e.target.value as 'F16' | 'BF16' })}>
              <option value="F16">f16</option><option value="BF16">bf16</option>
            </select>
            <button type="button" onClick={() => void lib.merge()} disabled={busy || !model || lib.mergeChecked.length === 0}>
              Merge {lib.mergeChecked.length || ''} and download
            </button>
          </div>
        </section>
        <GgufExport modelName={model?.name ?? null} />
        <section aria-labelledby="import-title">
          <h3 id="import-title">Import a PEFT adapter</h3>
          <FileDrop label="Adapter files" accept=".safetensors,.json,.zip" multiple disabled={busy} onFiles={(f) => void lib.importFiles(f)} />
          <p className="help">adapter_model.safetensors with adapter_config.json, or a zip of both. Checked against the loaded model.</p>
        </section>
      </div>
    </section>
  );
}
