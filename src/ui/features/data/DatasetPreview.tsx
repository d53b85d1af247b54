/** The first examples as the model sees them: prompt (masked, not trained) apart from the trained part. */
import type { DatasetSummary } from '../../../worker/api';

export function DatasetPreview({ preview }: { preview: DatasetSummary['preview'] }) {
  return (
    <div className="preview" data-testid="dataset-preview">
      <p className="legend small">
        <span className="seg masked">prompt: not in the loss</span> <span className="seg trained">trained: in the loss</span>
      </p>
      {preview.map((ex, i) => (
        <pre key={i} className="example" aria-label={`Example ${i + 1}, ${ex.tokens} tokens`}>
          {ex.segments.map((s, j) => (
            <span key={j} className={s.train ? 'seg trained' : 'seg masked'} title={s.train ? 'trained' : 'masked from the loss'}>{s.text}</span>
          ))}
          <span className="muted small"> · {ex.tokens} tokens</span>
        </pre>
      ))}
    </div>
  );
}
