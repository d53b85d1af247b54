/**
 * Typed errors of the WebGPU engine.
 *
 * Every class sets `name` and keeps only plain fields (strings, numbers, arrays of plain objects),
 * so a structured clone across the worker boundary keeps everything needed to rebuild it
 * (see `engineErrorFromPlain`).
 */

/** No WebGPU, no adapter, or the device request was refused. */
export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** One message of `GPUShaderModule.getCompilationInfo()`, lines and columns 1-based. */
export interface ShaderMessage {
  type: 'error' | 'warning' | 'info';
  line: number;
  col: number;
  message: string;
}

/** A WGSL module failed to compile (or a pipeline from it failed to build). */
export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
  readonly label: string;
  readonly messages: ShaderMessage[];

  constructor(label: string, messages: ShaderMessage[], detail?: string) {
    const lines = messages.map((m) => `${label}:${m.line}:${m.col}: ${m.type}: ${m.message}`);
    if (detail) lines.push(detail);
    super(`shader '${label}' failed to compile\n${lines.join('\n')}`);
    this.label = label;
    this.messages = messages;
  }
}

/** `device.lost` resolved: the device is gone and everything on it must be rebuilt. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  /** `'destroyed'` when we destroyed it ourselves, `'unknown'` otherwise (driver reset, OOM kill ...). */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(`GPU device lost (${reason}): ${message}`);
    this.reason = reason;
  }
}

/** An allocation that cannot succeed: above a device limit, or refused by the device. */
export class OutOfMemoryError extends Error {
  override name = 'OutOfMemoryError';
  readonly requestedBytes: number;
  readonly category: string;
  readonly label: string;
  /** The limit that was exceeded in bytes, or -1 when the device itself ran out. */
  readonly limitBytes: number;

  constructor(requestedBytes: number, category: string, label: string, limitBytes: number, why: string) {
    super(`cannot allocate ${requestedBytes} bytes for '${label}' (${category}): ${why}`);
    this.requestedBytes = requestedBytes;
    this.category = category;
    this.label = label;
    this.limitBytes = limitBytes;
  }
}

/** A WebGPU validation (or internal) error that no error scope caught. */
export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
  readonly kind: 'validation' | 'internal';

  constructor(message: string, kind: 'validation' | 'internal' = 'validation') {
    super(message);
    this.kind = kind;
  }
}

export type EngineError =
  | GpuUnavailableError
  | ShaderCompileError
  | DeviceLostError
  | OutOfMemoryError
  | GpuValidationError;

/**
 * Rebuild an engine error from its structured clone (a plain object with `name`, `message` and the
 * class's fields). Returns null when `name` is not one of ours.
 */
export function engineErrorFromPlain(o: Record<string, unknown>): EngineError | null {
  const s = (k: string) => String(o[k] ?? '');
  const n = (k: string) => Number(o[k] ?? 0);
  let e: EngineError;
  switch (o.name) {
    case 'GpuUnavailableError': e = new GpuUnavailableError(s('message')); break;
    case 'ShaderCompileError': e = new ShaderCompileError(s('label'), (o.messages as ShaderMessage[]) ?? []); break;
    case 'DeviceLostError': e = new DeviceLostError(s('reason'), ''); break;
    case 'OutOfMemoryError':
      e = new OutOfMemoryError(n('requestedBytes'), s('category'), s('label'), n('limitBytes'), ''); break;
    case 'GpuValidationError': e = new GpuValidationError(s('message'), o.kind === 'internal' ? 'internal' : 'validation'); break;
    default: return null;
  }
  e.message = s('message'); // keep the original wording exactly
  return e;
}
