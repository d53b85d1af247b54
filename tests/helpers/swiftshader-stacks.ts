/**
 * The stacks of SwiftShader's fibers in a process. SwiftShader (the CPU Vulkan that runs WebGPU on a
 * machine without a GPU) schedules its work on marl fibers and keeps every fiber it ever made, so
 * their stacks are a high-water mark of how many tasks were once blocked at the same time: thread
 * timing, not what the studio holds, and absent on a GPU. Memory tests count them apart.
 */
import { readFileSync } from 'node:fs';

/** marl's fiber stacks: an anonymous 1 MiB + 4 KiB read-write region right above a guard page. */
const FIBER_STACK = 2 ** 20 + 4096;

/** Resident bytes of SwiftShader's fiber stacks in a process (/proc/<pid>/smaps). */
export function fiberStackBytes(pid: number | 'self'): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return 0;
  }
  let total = 0;
  let prev: { end: number; perms: string } | null = null;
  let cur: { start: number; end: number; perms: string; anon: boolean } | null = null;
  let counted = false;
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      prev = cur;
      cur = { start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], anon: m[4] === '' };
      counted = cur.anon && cur.perms === 'rw-p' && cur.end - cur.start === FIBER_STACK && prev !== null && prev.perms === '---p' && prev.end === cur.start;
    } else if (counted && line.startsWith('Rss:')) {
      total += Number(/\d+/.exec(line)![0]) * 1024;
    }
  }
  return total;
}

