// True-CPU attribution of a server by owner (the innermost frame of our libs, else the outermost
// package, else kernel / GC / other), from `perf script` output of a `perf record -g` taken with the
// server running under --perf-basic-prof (JIT frames named). See perf-record.sh.
//   node bench/experiments/perf-owners.mjs <perf-script.txt> [µs per request to scale to] [top N]
// Unlike the V8 sampling profiler, perf samples on CPU time: a thread waiting inside a syscall
// (descheduled) is not counted, so kernel shares are CPU, not wall time.
import { readFileSync } from 'node:fs';

const [file, scaleArg = '100', topArg = '40'] = process.argv.slice(2);
if (!file) throw new Error('usage: perf-owners.mjs <perf-script.txt> [scale] [top]');
const samples = [];
let cur = [];
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line && !/^\s/.test(line)) {
    if (cur.length) samples.push(cur);
    cur = [];
    continue;
  }
  const s = line.trim();
  if (s) cur.push(s.includes(' ') ? s.slice(s.indexOf(' ') + 1) : '?');
}
if (cur.length) samples.push(cur);

const owners = new Map();
for (const stack of samples) {
  let owner;
  for (const frame of stack) {
    const m = /JS:[*~^]?(\S*) \/\S*?\/libs\/([^/]+)\/dist\/(\S+?):(\d+)/.exec(frame);
    if (m) {
      owner = `${m[1] || '(anonymous)'} ${m[2]}/${m[3]}:${m[4]}`;
      break;
    }
  }
  if (!owner) {
    for (const frame of stack) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(frame);
      if (m) owner = `pkg:${m[1]}`;
    }
  }
  if (!owner) {
    if (stack.some((f) => /do_syscall|entry_SYSCALL/.test(f))) owner = 'kernel (no JS owner)';
    else if (stack.some((f) => /Scavenge|Marking|Heap::|Sweeper|GC/.test(f))) owner = 'gc';
    else owner = `other: ${(stack[0] ?? '?').slice(0, 70)}`;
  }
  owners.set(owner, (owners.get(owner) ?? 0) + 1);
}
const total = samples.length;
const scale = Number(scaleArg);
console.log(`${total} samples; columns: share, scaled to ${scale} (e.g. µs per request), owner`);
for (const [k, v] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${((scale * v) / total).toFixed(1).padStart(6)}  ${k}`);
}
