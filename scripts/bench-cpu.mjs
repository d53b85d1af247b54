// CPU time of the browser's GPU process, for `npm run bench`. On a CPU adapter (SwiftShader) that
// process's threads are the device, so its CPU time is the device's busy time: unlike wall time it
// does not grow when other processes load the machine. Linux only (/proc); null elsewhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

function ticksPerSecond() {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** [ppid, utime + stime ticks] of a process, from /proc/<pid>/stat (the name may hold spaces). */
function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function findGpuProcess(rootPid) {
  const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(pids.map((p) => [p, stat(p)?.ppid ?? 0]));
  const descends = (p) => {
    for (let q = p, i = 0; q > 1 && i < 64; q = parent.get(q) ?? 0, i++) if (q === rootPid) return true;
    return false;
  };
  for (const p of pids) {
    if (!descends(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=gpu-process')) return p;
    } catch { /* gone */ }
  }
  return null;
}

/** A function returning the GPU process's CPU milliseconds so far (null until it exists, or off Linux). */
export function gpuProcessCpuMs(rootPid) {
  if (!existsSync('/proc/self/stat')) return () => null;
  const hz = ticksPerSecond();
  let pid = null;
  return () => {
    pid ??= findGpuProcess(rootPid);
    const s = pid === null ? null : stat(pid);
    return s ? (1000 * s.ticks) / hz : null;
  };
}

/** A function returning the GPU process's resident set in bytes (VmRSS; null until it exists, or off Linux). */
export function gpuProcessRssBytes(rootPid) {
  if (!existsSync('/proc/self/status')) return () => null;
  let pid = null;
  return () => {
    pid ??= findGpuProcess(rootPid);
    if (pid === null) return null;
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : null;
    } catch {
      return null;
    }
  };
}
