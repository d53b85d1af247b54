/** The runs side by side: what was set and what came out, rows that differ marked; scrolls inside its own box when wide. */
import type { RunRecord } from '../../../worker/api';
import { COMPARE_ROWS } from './compare-rows';

export function CompareTable({ runs, colors }: { runs: RunRecord[]; colors: Record<string, string> }) {
  return (
    <div className="table-scroll" data-testid="compare-scroll">
      <table className="dense compare" data-testid="compare-table">
        <thead>
          <tr><th scope="col">Setting</th>{runs.map((r) => <th key={r.id} scope="col"><span className="swatch" style={{ background: colors[r.id] }} />{r.name}</th>)}</tr>
        </thead>
        <tbody>
          {COMPARE_ROWS.map(([label, get]) => {
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
    </div>
  );
}
