// Host memory of this Node process while something runs: the JS heap and ArrayBuffer/external
// memory (what the loader and the engine hold in JavaScript), sampled every 10 ms, and the
// kernel's high-water mark of the resident set (VmHWM), which in Node also holds Dawn's and (on
// SwiftShader, a CPU Vulkan) the GPU's own memory.
import { readFileSync } from 'node:fs';

export interface MemoryPeak {
  /** heapUsed + external (ArrayBuffers included) before the work, after a collection. */
  idleJsBytes: number;
  /** The largest heapUsed + external seen during the work. */
  peakJsBytes: number;
  peakJsAboveIdleBytes: number;
  /** VmHWM: the resident set's peak over the process's life. */
  peakRssBytes: number | null;
}

const gc = (globalThis as { gc?: () => void }).gc;
const js = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

export function peakRssBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function measureMemory<T>(work: () => Promise<T>): Promise<{ result: T; memory: MemoryPeak }> {
  gc?.();
  gc?.();
  const idle = js();
  let peak = idle;
  const timer = setInterval(() => (peak = Math.max(peak, js())), 10);
  try {
    const result = await work();
    peak = Math.max(peak, js());
    return { result, memory: { idleJsBytes: idle, peakJsBytes: peak, peakJsAboveIdleBytes: peak - idle, peakRssBytes: peakRssBytes() } };
  } finally {
    clearInterval(timer);
  }
}
