/**
 * Errors that cross the worker boundary keep their class, message and fields. Comlink's own
 * "throw" handler sends only name, message and stack and rebuilds a plain Error; this one sends
 * every plain field and rebuilds the studio's typed errors, so the UI can branch on
 * `instanceof DeviceLostError` and show `BadFileError.file`. Register it on both sides.
 */
import * as Comlink from 'comlink';
import { engineErrorFromPlain } from '../engine/errors';
import { BadFileError } from '../core/errors';
import { ModelConfigError } from '../config/model-config-error';
import { ChatTemplateError, DatasetError } from '../data/errors';
import { HubError } from '../io/model-source/errors';
import { RunConfigError } from '../config/run-config';
import { NonFiniteError } from '../train/trainer';
import { StorageFullError } from '../io/stores/storage-errors';
import { TrainingElsewhereError } from './tab-lock';

export type PlainError = { name: string; message: string; stack?: string } & Record<string, unknown>;

type ErrorCtor = abstract new (...args: never[]) => Error;

/** Classes rebuilt by name (engine errors go through engineErrorFromPlain). */
const KNOWN: Record<string, ErrorCtor> = {
  BadFileError, ModelConfigError, RunConfigError, DatasetError, NonFiniteError, ChatTemplateError, HubError, StorageFullError, TrainingElsewhereError,
};
const extra = new Map<string, ErrorCtor>();

/** Let another module's error class survive the boundary too (e.g. src/data's errors). */
export function registerErrorClass(name: string, ctor: ErrorCtor): void {
  extra.set(name, ctor);
}

/** An error as a structured-cloneable object: name, message, stack and its own plain fields. */
export function errorToPlain(e: unknown): PlainError {
  if (!(e instanceof Error)) return { name: 'Error', message: typeof e === 'string' ? e : JSON.stringify(e) ?? String(e) };
  const out: PlainError = { name: e.name, message: e.message, stack: e.stack };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'cause') continue;
    if (isPlain(v)) out[k] = v;
  }
  return out;
}

function isPlain(v: unknown, depth = 0): boolean {
  if (v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v)) return true;
  if (depth > 4) return false;
  if (Array.isArray(v)) return v.every((x) => isPlain(x, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as object).every((x) => isPlain(x, depth + 1));
  return false;
}

/** Rebuild the typed error a plain object describes (a plain Error with its fields when the class is unknown). */
export function errorFromPlain(p: PlainError): Error {
  const engine = engineErrorFromPlain(p);
  if (engine) {
    if (p.stack) engine.stack = p.stack;
    return engine;
  }
  let ctor: ErrorCtor | undefined = KNOWN[p.name] ?? extra.get(p.name);
  // Bypass constructors (their signatures differ); the prototype gives instanceof, the fields the rest.
  const e: Error = ctor ? Object.create(ctor.prototype) : new Error(p.message);
  Object.assign(e, p);
  return e;
}

let registered = false;

/** Install the handler in this realm's comlink (idempotent). */
export function registerErrorTransfer(): void {
  if (registered) return;
  registered = true;
  const base = Comlink.transferHandlers.get('throw')!;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown: unknown) {
      const { value } = thrown as { value: unknown };
      return [{ isError: value instanceof Error, value: value instanceof Error ? errorToPlain(value) : value }, []];
    },
    deserialize(s: unknown) {
      const { isError, value } = s as { isError: boolean; value: unknown };
      throw isError ? errorFromPlain(value as PlainError) : value;
    },
  });
}
