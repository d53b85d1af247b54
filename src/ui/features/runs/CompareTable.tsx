/** The runs side by side: what was set and what came out. */
import type { RunRecord } from '../../../worker/api';
import { bytes, duration, loss } from '../../components/format';

const ROWS: [string, (r: RunRecord) => string][] = [
  ['Rank', (r) => String(r.config.rank)],
  ['Alpha', (r) => `${r.config.alpha}${r.config.useRslora ? ' (rsLoRA)' : ''}`],
  ['Targets', (r) => r.config.targets.join(', ')],
  ['Base precision', (r) => r.config.basePrecision + (r.config.doubleQuant ? ' + double quant' : '')],
  ['Optimizer', (r) => (r.config.optimizer === 'adamw' ? `AdamW lr ${r.config.learningRate}` : `SGD lr ${r.config.learningRate} m ${r.config.momentum}`)],
  ['Schedule', (r) => `${r.config.schedule}${r.config.warmupSteps ? `, warmup ${r.config.warmupSteps}` : ''}`],
  ['Batch', (r) => `${r.config.microBatch} x ${r.config.gradAccumulation} x ${r.config.maxSeqLen} tokens${r.config.activationCheckpointing ? ', checkpointed' : ''}`],
  ['Steps', (r) => `${r.final?.steps ?? r.pointCount} / ${r.totalSteps}`],
  ['Train loss (mean of last 10)', (r) => loss(r.final?.trainLossMean ?? r.final?.trainLoss)],
  ['Base validation loss', (r) => loss(r.baseValLoss)],
  ['Best validation loss', (r) => (r.final?.bestVal ? `${loss(r.final.bestVal.loss)} (step ${r.final.bestVal.step})` : loss(r.final?.valLoss))],
  ['Peak memory', (r) => (r.final ? bytes(r.final.peakMemory) : '–')],
  ['Wall time', (r) => (r.final ? duration(r.final.wallMs) : '–')],
  ['Seed', (r) => String(r.config.seed)],
];

export function CompareTable({ runs, colors }: { runs: RunRecord[]; colors: Record<string, string> }) {
  return (
    <table className="dense compare" data-testid="compare-table">
      <thead>
        <tr><th scope="col">Setting</th>{runs.map((r) => <th key={r.id} scope="col"><span className="swatch" style={{ background: colors[r.id] }} />{r.name}</th>)}</tr>
      </thead>
      <tbody>
        {ROWS.map(([label, get]) => {
          const values = runs.map(get);
          const differs = new Set(values).size > 1;
          return (
            <tr key={label} className={differs ? 'differs' : undefined}>
              <th scope="row">{label}</th>
              {values.map((v, i) => <td key={runs[i].id}>{v}</td>)}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
