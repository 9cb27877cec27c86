// Per-process CPU time and memory from /proc (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 everywhere that matters.
}
export const CLK_TCK = clkTck;

/** utime + stime of the whole process (all threads), in clock ticks; null once it is gone. */
export function cpuTicks(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return null;
  }
}

/**
 * Read and write system calls made so far by the whole process (`syscr`, `syscw` of
 * /proc/<pid>/io: the read/readv and write/writev family, which Node's sockets use; send and recv
 * calls are not counted); null once it is gone or unreadable.
 * Each socket write over loopback also runs the receiver's TCP path in the writer's kernel time,
 * so write calls per request explain much of a proxy's kernel CPU.
 */
export function syscalls(pid) {
  if (!pid) return null;
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const r = io.match(/^syscr:\s+(\d+)/m);
    const w = io.match(/^syscw:\s+(\d+)/m);
    return r && w ? { reads: Number(r[1]), writes: Number(w[1]) } : null;
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM (peak RSS) in bytes; null once the process is gone. */
export function memory(pid) {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => {
      const m = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
      return m ? Number(m[1]) * 1024 : null;
    };
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Samples VmRSS of some processes every `everyMs` and keeps the maximum of each. */
export function rssSampler(pids, everyMs = 100) {
  const max = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const tick = () => {
    for (const [k, pid] of Object.entries(pids)) {
      const m = memory(pid);
      if (m?.rss && m.rss > max[k]) max[k] = m.rss;
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return max;
    },
  };
}
