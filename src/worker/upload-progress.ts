/**
 * The phase events of a base model's upload to the GPU (a run's first minutes on a large model):
 * the bytes read from the file so far of the weights' total, the rate, the time left, and what
 * the GPU does with them (quantizing to NF4 or int8, converting to 16 or 32 bits). At most one
 * event per `everyMs`, and one at the start.
 */
import { TransferRate } from '../core/transfer-rate';
import type { WeightFormat } from '../reference/quant/packed';
import type { TrainEvent } from './api';

export interface UploadProgress {
  onTensor: (name: string) => void;
  onRead: (bytes: number) => void;
  /** The first event (0 bytes), before any read. */
  start: () => void;
}

/** What the GPU does with the weights in `format`, for the message. */
function doing(format: WeightFormat): string {
  if (format === 'nf4' || format === 'int8') return `quantized to ${format === 'nf4' ? 'NF4' : 'int8'} on the GPU`;
  return `stored as ${format}`;
}

export function uploadProgress(totalBytes: number, format: WeightFormat, emit: (e: TrainEvent) => void, everyMs = 250): UploadProgress {
  const rate = new TransferRate();
  let done = 0;
  let tensor = '';
  let last = -Infinity;
  const send = (force: boolean) => {
    const now = performance.now();
    if (!force && now - last < everyMs) return;
    last = now;
    const total = Math.max(totalBytes, done);
    emit({
      type: 'phase', phase: 'loading-weights', progress: total ? done / total : 0, transfer: rate.update(done, total),
      message: `Uploading the base model to the GPU, ${doing(format)}${tensor ? `: ${tensor}` : ''}`,
    });
  };
  return {
    onTensor: (name) => (tensor = name),
    onRead: (bytes) => {
      done += bytes;
      send(false);
    },
    start: () => send(true),
  };
}
