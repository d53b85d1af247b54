/** Generate from a prompt with the base model and with base + adapter (or a fully finetuned model), side by side, tokens streamed. */
import { useEffect, useId, useState } from 'react';
import type { AdapterMeta, FullModelMeta } from '../../../worker/api';
import { studio } from '../../client';
import { ErrorBox } from '../../components/ErrorBox';
import { NumberInput } from '../../components/fields';
import { useSession } from '../../stores/session';
import { fetchHeldOut, isRight, type HeldOutExample } from './held-out';
import { usePlayground, type Output } from './store';
import { choiceValue, parseChoice, tunedTitle, validChoice } from './tuned-choice';

function OutputPane({ title, out, testId, expected }: { title: string; out: Output; testId: string; expected?: string }) {
  const verdict = expected !== undefined && out.result && !out.running ? (isRight(out.text, expected) ? 'right' : 'wrong') : null;
  return (
    <figure className="output" data-testid={testId}>
      <figcaption>{title} {out.running && <span className="muted">generating…</span>}
        {verdict && <span className={`verdict ${verdict}`} data-testid={`${testId}-verdict`}>{verdict === 'right' ? '✓ right' : '✗ wrong'}</span>}
        {out.result && <span className="muted small"> {out.result.tokens} tokens · {out.result.tokensPerSecond.toFixed(1)} tok/s · {out.result.stoppedBy === 'eos' ? 'stopped at EOS' : out.result.stoppedBy === 'stopped' ? 'stopped' : 'hit max tokens'}</span>}
      </figcaption>
      <pre aria-live="polite" aria-label={`${title} output`} data-testid={`${testId}-text`}>{out.text}</pre>
      <ErrorBox error={out.error} />
    </figure>
  );
}

function Num({ label, value, onChange, integer }: { label: string; value: number; onChange(v: number): void; integer?: boolean }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <NumberInput id={id} value={value} integer={integer} onChange={(v) => typeof v === 'number' && onChange(v)} />
    </div>
  );
}

/** The playground's first prompt before the demo had held-out examples (still in some browsers' saved state). */
const LEGACY_DEFAULT_PROMPT = 'What is 12 + 7?';

export function Playground() {
  const p = usePlayground();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const version = useSession((s) => s.libraryVersion);
  const training = useSession((s) => s.training);
  const wanted = useSession((s) => s.playgroundAdapter);
  const wantedFull = useSession((s) => s.playgroundFullModel);
  /** The library's adapters and fully finetuned models; null until the first listing arrives. */
  const [adapters, setAdapters] = useState<AdapterMeta[] | null>(null);
  const [fullModels, setFullModels] = useState<FullModelMeta[] | null>(null);
  const promptId = useId();
  const adapterId = useId();
  const exampleId = useId();
  /** The demo's held-out prompts with their answers (none for other models). */
  const [heldOut, setHeldOut] = useState<HeldOutExample[]>([]);
  useEffect(() => {
    if (model?.source !== 'demo') { setHeldOut([]); return; }
    let live = true;
    void fetchHeldOut().then((list) => {
      if (!live) return;
      setHeldOut(list);
      // A prompt never typed by this person (the old default, or empty) becomes the first held-out one.
      const { prompt, set } = usePlayground.getState();
      if (list.length && (!prompt.trim() || prompt === LEGACY_DEFAULT_PROMPT)) set({ prompt: list[0].question, useTemplate: true });
    });
    return () => { live = false; };
  }, [model?.source]);
  useEffect(() => {
    void studio().listAdapters().then(setAdapters, () => setAdapters([]));
    void studio().listFullModels().then(setFullModels, () => setFullModels([]));
  }, [version]);
  // "Try" asked for an adapter (or a finetuned model): select it, and clear the outputs of the previous one.
  useEffect(() => {
    if (!wanted && !wantedFull) return;
    usePlayground.getState().select(wanted, wantedFull);
    useSession.getState().tookPlaygroundAdapter();
    // A new adapter is tried on a prompt it has not seen: a held-out example, unless one is already there.
    const { prompt, set } = usePlayground.getState();
    if (heldOut.length && !heldOut.some((h) => h.question === prompt)) set({ prompt: heldOut[0].question, useTemplate: true });
  }, [wanted, wantedFull, heldOut]);
  // Once listed, keep the selection valid (deleted meanwhile); default to the newest adapter, else finetuned model.
  useEffect(() => {
    if (!adapters || !fullModels) return;
    const { adapterId: a, fullModelId: f, select } = usePlayground.getState();
    const c = validChoice({ adapterId: a, fullModelId: f }, adapters, fullModels, useSession.getState().model?.name ?? null);
    select(c.adapterId, c.fullModelId);
  }, [adapters, fullModels]);
  const running = p.base.running || p.tuned.running;
  const example = heldOut.find((h) => h.question === p.prompt);
  const disabled = !model || training !== 'idle';
  return (
    <section className="panel" aria-labelledby="play-title">
      <h2 id="play-title">Playground</h2>
      {training !== 'idle' && <p className="note info">The GPU is training; the playground is available when the run ends.</p>}
      <div className="play-layout">
        <form className="play-controls" aria-label="Generation settings" onSubmit={(e) => { e.preventDefault(); if (!running && !disabled) void p.run(); }}>
          {heldOut.length > 0 && (
            <div className="field">
              <label htmlFor={exampleId}>Held-out example</label>
              <select id={exampleId} value={example ? heldOut.indexOf(example) : ''} onChange={(e) => { const h = heldOut[Number(e.target.value)]; if (h) p.set({ prompt: h.question, useTemplate: true }); }}>
                <option value="">your own prompt</option>
                {heldOut.map((h, i) => <option key={i} value={i}>{h.question}</option>)}
              </select>
              <p className="help">Sentences the demo's training data never shows; the expected answer is checked below.</p>
            </div>
          )}
          <div className="field">
            <label htmlFor={promptId}>Prompt</label>
            <textarea id={promptId} rows={5} value={p.prompt} onChange={(e) => p.set({ prompt: e.target.value })}
              onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!running && !disabled) void p.run(); } }} />
            <p className="help">Ctrl+Enter generates.</p>
          </div>
          <div className="field">
            <label htmlFor={adapterId}>Adapter</label>
            <select id={adapterId} value={choiceValue(p)} onChange={(e) => { const c = parseChoice(e.target.value); p.select(c.adapterId, c.fullModelId); }}>
              <option value="">none (base model only)</option>
              {/* Until the listings arrive, the chosen one is an option already (its name follows). */}
              {(adapters === null || fullModels === null) && choiceValue(p) && <option value={choiceValue(p)}>…</option>}
              {!!adapters?.length && (
                <optgroup label="Adapters">
                  {adapters.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
                </optgroup>
              )}
              {!!fullModels?.length && (
                <optgroup label="Fully finetuned models">
                  {fullModels.map((m) => (
                    <option key={m.id} value={choiceValue({ adapterId: null, fullModelId: m.id })}>{m.name}{model && m.baseModel !== model.name ? ` (a finetune of ${m.baseModel})` : ''}</option>
                  ))}
                </optgroup>
              )}
            </select>
            {p.fullModelId && <p className="help">A fully finetuned model runs on its own weights, in place of the base model&apos;s.</p>}
          </div>
          <div className="grid">
            <Num label="Temperature" value={p.temperature} onChange={(v) => p.set({ temperature: v })} />
            <Num label="Top-k (0 = off)" value={p.topK} integer onChange={(v) => p.set({ topK: v })} />
            <Num label="Top-p" value={p.topP} onChange={(v) => p.set({ topP: v })} />
            <Num label="Max new tokens" value={p.maxNewTokens} integer onChange={(v) => p.set({ maxNewTokens: v })} />
            <Num label="Seed" value={p.seed} integer onChange={(v) => p.set({ seed: v })} />
          </div>
          <label className="check-label"><input type="checkbox" checked={p.stopAtEos} onChange={(e) => p.set({ stopAtEos: e.target.checked })} /> Stop at end of sequence (EOS)</label>
          <label className="check-label"><input type="checkbox" checked={p.useTemplate} onChange={(e) => p.set({ useTemplate: e.target.checked })} disabled={!dataset} /> Wrap the prompt in the dataset's template{dataset ? ` (${dataset.template})` : ''}</label>
          <div className="row">
            <button type="submit" className="primary" disabled={running || disabled}>Generate</button>
            <button type="button" onClick={() => void p.stop()} disabled={!running}>Stop</button>
          </div>
        </form>
        <div className="outputs">
          {example && <p className="muted small" data-testid="expected-answer">Expected answer: <b>{example.answer}</b></p>}
          <OutputPane title="Base model" out={p.base} testId="output-base" expected={example?.answer} />
          <OutputPane title={tunedTitle(p, adapters, fullModels)} out={p.tuned} testId="output-adapter" expected={example?.answer} />
        </div>
      </div>
    </section>
  );
}
