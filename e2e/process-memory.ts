/**
 * Memory of the studio's processes, read from the test's side of Chromium:
 *   - the GPU process's resident set (its pid from CDP SystemInfo.getProcessInfo, its VmRSS from
 *     Linux's /proc; on SwiftShader the GPU's memory is that process's memory);
 *   - the studio worker's JS heap and ArrayBuffer backing stores (CDP Runtime.getHeapUsage on the
 *     worker's target, after HeapProfiler.collectGarbage there, so garbage is not counted);
 *   - the engine's ledger of live GPU buffers in the worker (StudioApi.gpuMemory, through the
 *     e2e hook window.__studio).
 * The dedicated worker is reached through the page's CDP session (Target.setAutoAttach without
 * flattening, then Target.sendMessageToTarget), as Playwright has no CDP session for workers.
 */
import { readFileSync } from 'node:fs';
import type { Browser, CDPSession, Page } from '@playwright/test';
import type { DeviceMemory } from '../src/engine/pool';
import { fiberStackBytes } from '../tests/helpers/swiftshader-stacks';

export interface MemoryFigures {
  /** Resident set of Chromium's GPU process, bytes (null off Linux). */
  gpuProcessBytes: number | null;
  /**
   * Of it, the stacks of SwiftShader's fibers (the CPU device's task scheduler, marl): its pool keeps
   * as many as were ever blocked at once, a high-water mark set by thread timing that a GPU does not
   * have. 0 on a GPU.
   */
  cpuDeviceStackBytes: number;
  /** The worker's used JS heap, bytes. */
  workerHeapBytes: number;
  /** ArrayBuffer backing stores of the worker, bytes. */
  workerArrayBufferBytes: number;
  /** The engine's live GPU buffers and staging buffers in the worker. */
  ledger: DeviceMemory;
}

interface WorkerChannel {
  send<T>(method: string, params?: Record<string, unknown>): Promise<T>;
}

async function attachWorker(session: CDPSession, urlPart: string): Promise<WorkerChannel> {
  const pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  let sessionId: string | null = null;
  const attached = new Promise<string>((resolve) => {
    session.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type === 'worker' && e.targetInfo.url.includes(urlPart)) resolve(e.sessionId);
    });
  });
  session.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const msg = JSON.parse(e.message) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg);
    if (msg.id !== undefined) pending.delete(msg.id);
  });
  await session.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  sessionId = await attached;
  let id = 0;
  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      const mine = ++id;
      return new Promise<T>((resolve, reject) => {
        pending.set(mine, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T)));
        void session.send('Target.sendMessageToTarget', { sessionId: sessionId!, message: JSON.stringify({ id: mine, method, params }) });
      });
    },
  };
}

function residentBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The highest figures seen while a run went on (sampled; no collection forced, so garbage counts). */
export interface MemoryPeaks {
  gpuProcessBytes: number | null;
  workerHeapBytes: number;
  workerArrayBufferBytes: number;
}

/** A probe for a page whose studio worker is running (its script URL contains `studio.worker`). */
export async function memoryProbe(page: Page, browser: Browser): Promise<{ measure(): Promise<MemoryFigures>; watchPeaks(everyMs?: number): { stop(): Promise<MemoryPeaks> } }> {
  const browserSession = await browser.newBrowserCDPSession();
  const worker = await attachWorker(await page.context().newCDPSession(page), 'studio.worker');
  const gpuPid = async () => {
    const { processInfo } = await browserSession.send('SystemInfo.getProcessInfo');
    return processInfo.find((p) => p.type.toLowerCase() === 'gpu')?.id ?? null;
  };
  return {
    watchPeaks(everyMs = 250) {
      const peaks: MemoryPeaks = { gpuProcessBytes: null, workerHeapBytes: 0, workerArrayBufferBytes: 0 };
      let on = true;
      const loop = (async () => {
        const pid = await gpuPid();
        while (on) {
          const rss = pid === null ? null : residentBytes(pid);
          if (rss !== null) peaks.gpuProcessBytes = Math.max(peaks.gpuProcessBytes ?? 0, rss);
          const heap = await worker.send<{ usedSize: number; backingStorageSize?: number }>('Runtime.getHeapUsage').catch(() => null);
          if (heap) {
            peaks.workerHeapBytes = Math.max(peaks.workerHeapBytes, heap.usedSize);
            peaks.workerArrayBufferBytes = Math.max(peaks.workerArrayBufferBytes, heap.backingStorageSize ?? 0);
          }
          await new Promise((r) => setTimeout(r, everyMs));
        }
      })();
      return {
        async stop() {
          on = false;
          await loop;
          return peaks;
        },
      };
    },
    async measure() {
      // Twice: objects freed by the first collection may hold others (finalizers run in between).
      await worker.send('HeapProfiler.collectGarbage');
      await worker.send('HeapProfiler.collectGarbage');
      // The GPU process frees what the collected GPU objects held when their release messages arrive.
      await page.waitForTimeout(1000);
      const heap = await worker.send<{ usedSize: number; backingStorageSize?: number }>('Runtime.getHeapUsage');
      const ledger = await page.evaluate(() => (window as unknown as { __studio: { gpuMemory(): Promise<DeviceMemory> } }).__studio.gpuMemory());
      const pid = await gpuPid();
      return {
        gpuProcessBytes: pid === null ? null : residentBytes(pid),
        cpuDeviceStackBytes: pid === null ? 0 : fiberStackBytes(pid),
        workerHeapBytes: heap.usedSize,
        workerArrayBufferBytes: heap.backingStorageSize ?? 0,
        ledger,
      };
    },
  };
}
