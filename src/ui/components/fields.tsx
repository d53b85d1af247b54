/**
 * Form fields bound to the run-config draft: a label, the field's one-line explanation and its
 * own error, wired with htmlFor / aria-describedby / aria-invalid so every control is labelled
 * and errors are announced.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import { FIELD_HELP } from '../stores/field-help';
import { labelOf } from '../stores/field-labels';
import { useRunConfig, useValidatedConfig } from '../stores/run-config';

interface ShellProps {
  id: string;
  label: string;
  help?: string;
  error?: string;
  children: ReactNode;
  inline?: boolean;
}

export function FieldShell({ id, label, help, error, children, inline }: ShellProps) {
  return (
    <div className={`field${inline ? ' inline' : ''}${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {help && <p id={`${id}-help`} className="help">{help}</p>}
      {error && <p id={`${id}-error`} className="field-error" role="alert">{error}</p>}
    </div>
  );
}

const describedBy = (id: string, help?: string, error?: string) =>
  [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

function getAt(draft: Record<string, unknown>, path: (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], draft);
}

function setAt(draft: Record<string, unknown>, path: (string | number)[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (rest.length === 0) return value;
  const cur = draft[head as string];
  const copy: unknown[] | Record<string, unknown> = Array.isArray(cur) ? [...cur] : { ...(cur as object) };
  (copy as Record<string | number, unknown>)[rest[0]] = rest.length === 1 ? value : setAt(cur as Record<string, unknown>, rest, value);
  return copy;
}

/** A text box for a number: keeps what is typed ("2e-" on the way to "2e-4") and stores numbers once they parse. */
export function NumberInput({ id, value, onChange, integer, ...rest }: {
  id: string; value: unknown; onChange(v: number | string): void; integer?: boolean; 'aria-describedby'?: string; 'aria-invalid'?: boolean; min?: number; max?: number; step?: number | string; 'aria-label'?: string;
}) {
  const shown = value === undefined || value === null ? '' : String(value);
  const [text, setText] = useState(shown);
  useEffect(() => {
    if (Number(text) !== value || text.trim() === '') setText(shown);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id} type="text" inputMode={integer ? 'numeric' : 'decimal'} autoComplete="off" spellCheck={false} value={text} {...rest}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        const n = Number(t);
        onChange(t.trim() !== '' && Number.isFinite(n) ? n : t);
      }}
    />
  );
}

interface BoundProps {
  /** Field name, or a path into a tuple field (["betas", 0]). */
  field: string | (string | number)[];
  /** Default: the field's label in FIELD_LABELS. */
  label?: string;
  help?: string;
  integer?: boolean;
  inline?: boolean;
}

function useBound(field: string | (string | number)[]) {
  const path = Array.isArray(field) ? field : [field];
  const draft = useRunConfig((s) => s.draft);
  const set = useRunConfig((s) => s.set);
  const { errors } = useValidatedConfig();
  const key = path.join('.');
  return {
    value: getAt(draft, path),
    error: errors[key] ?? (path.length > 1 ? errors[String(path[0])] : undefined),
    onChange: (v: unknown) => set(String(path[0]), setAt(draft, path, v)),
    help: FIELD_HELP[String(path[0])],
    label: labelOf(key),
  };
}

export function ConfigNumber({ field, label, help, integer, inline }: BoundProps) {
  const id = useId();
  const b = useBound(field);
  const h = help ?? b.help;
  return (
    <FieldShell id={id} label={label ?? b.label} help={h} error={b.error} inline={inline}>
      <NumberInput id={id} value={b.value} onChange={b.onChange} integer={integer} aria-describedby={describedBy(id, h, b.error)} aria-invalid={!!b.error} />
    </FieldShell>
  );
}

export function ConfigSelect({ field, label, options, help, inline }: BoundProps & { options: readonly (readonly [string, string])[] }) {
  const id = useId();
  const b = useBound(field);
  const h = help ?? b.help;
  return (
    <FieldShell id={id} label={label ?? b.label} help={h} error={b.error} inline={inline}>
      <select id={id} value={String(b.value ?? '')} onChange={(e) => b.onChange(e.target.value)} aria-describedby={describedBy(id, h, b.error)} aria-invalid={!!b.error}>
        {options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
    </FieldShell>
  );
}

export function ConfigCheck({ field, label, help }: BoundProps) {
  const id = useId();
  const b = useBound(field);
  const h = help ?? b.help;
  return (
    <div className={`field check${b.error ? ' invalid' : ''}`}>
      <input id={id} type="checkbox" checked={b.value === true} onChange={(e) => b.onChange(e.target.checked)} aria-describedby={describedBy(id, h, b.error)} aria-invalid={!!b.error} />
      <label htmlFor={id}>{label ?? b.label}</label>
      {h && <p id={`${id}-help`} className="help">{h}</p>}
      {b.error && <p id={`${id}-error`} className="field-error" role="alert">{b.error}</p>}
    </div>
  );
}
