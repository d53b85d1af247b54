/**
 * The model families the studio can train, shown before a person types a repo id or picks files, so
 * they need not find out by downloading a model that is refused. From SUPPORTED_ARCHITECTURES: the
 * class name config.json must give and the models people know it by.
 */
import { Fragment } from 'react';
import { SUPPORTED_ARCHITECTURES } from '../../../config/architectures';

export function SupportedModels() {
  return (
    <details className="supported-models" open data-testid="supported-models">
      <summary>Supported model families</summary>
      <dl className="kv">
        {SUPPORTED_ARCHITECTURES.map((a) => (
          <Fragment key={a.architecture}>
            <dt><code>{a.architecture}</code></dt>
            <dd>{a.knownAs}</dd>
          </Fragment>
        ))}
      </dl>
      <p className="help">Matched on config.json&apos;s &quot;architectures&quot;. Other models (mixtures of experts, Phi, GPT-NeoX …) are refused, with the closest supported family named when there is one.</p>
    </details>
  );
}
