// Reads a V8 .cpuprofile and says where the CPU time went: by function (self and inclusive), by
// package/file, and by "owner" (the innermost project frame on the stack, else the outermost
// package that entered the stack: fastify, undici, ioredis...). Usable alone:
//   node bench/lib/profile-summary.mjs <file.cpuprofile> [topN]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT + '/')) u = u.slice(ROOT.length + 1);
  return u;
}

/** 'project:<libs/x/...>' | 'pkg:<name>' | 'node:<module>' | 'native' | 'meta:(gc)' ... */
function areaOf(frame) {
  const name = frame.functionName;
  const u = shortUrl(frame.url);
  if (!u) {
    if (name === '(garbage collector)' || name === '(idle)' || name === '(program)' || name === '(root)') return `meta:${name}`;
    return 'native';
  }
  if (u.startsWith('node:')) return `node:${u.slice(5).replace(/^internal\//, '')}`;
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    if (pkg.startsWith('@gw/')) return `project:${rest.slice(1).join('/')}`;
    return `pkg:${pkg}`;
  }
  if (/^(libs|apps)\//.test(u)) return `project:${u}`;
  return `other:${u}`;
}

const pct = (x, total) => (total > 0 ? (100 * x) / total : 0);

export function summarise(profile, topN = 25) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time of each sample: the delta to the next sample (the last one gets the mean).
  const self = new Map();
  const { samples, timeDeltas } = profile;
  const mean = (profile.endTime - profile.startTime) / Math.max(1, samples.length);
  for (let i = 0; i < samples.length; i++) {
    const dt = i + 1 < timeDeltas.length ? Math.max(0, timeDeltas[i + 1]) : mean;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const key = (f) => `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  let total = 0;
  let idle = 0;
  const selfByFn = new Map();
  const inclByFn = new Map();
  const byArea = new Map();
  const byOwner = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  for (const [id, t] of self) {
    const n = nodes.get(id);
    const f = n.callFrame;
    total += t;
    if (f.functionName === '(idle)') {
      idle += t;
      continue;
    }
    add(selfByFn, key(f), t);
    add(byArea, areaOf(f), t);
    // Walk to the root: inclusive time per distinct function, and the owner of this sample.
    const seen = new Set();
    let innermostProject = null;
    let outermostPkg = null;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = nodes.get(cur).callFrame;
      const k = key(cf);
      if (!seen.has(k)) {
        seen.add(k);
        add(inclByFn, k, t);
      }
      const a = areaOf(cf);
      if (!innermostProject && a.startsWith('project:')) innermostProject = `${cf.functionName || '(anonymous)'} (${a.slice(8)}:${cf.lineNumber + 1})`;
      if (a.startsWith('pkg:')) outermostPkg = a;
    }
    const meta = areaOf(f).startsWith('meta:') ? areaOf(f) : null;
    add(byOwner, meta ?? innermostProject ?? outermostPkg ?? (areaOf(f).startsWith('node:') ? 'node core (no package on stack)' : areaOf(f)), t);
  }
  const busy = total - idle;
  const top = (m, n = topN) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => ({ name: k, ms: v / 1000, pct: pct(v, busy) }));
  // Areas collapsed to packages / project files / node core.
  const byPackage = new Map();
  for (const [a, v] of byArea) {
    const k = a.startsWith('node:') ? 'node core' : a.startsWith('project:') ? `project ${a.slice(8).split('/').slice(0, 2).join('/')}` : a;
    add(byPackage, k, v);
  }
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    samples: samples.length,
    selfTop: top(selfByFn),
    inclusiveTop: top(inclByFn, topN * 2),
    byPackage: top(byPackage, 40),
    byProjectFile: top(new Map([...byArea].filter(([a]) => a.startsWith('project:'))), 40),
    byOwner: top(byOwner, topN * 2),
  };
}

export function summaryMarkdown(title, s, requests) {
  const perReq = (ms) => (requests ? ` | ${((ms * 1000) / requests).toFixed(1)}` : '');
  const head = requests ? ' | µs/req' : '';
  const sep = requests ? '|---:' : '';
  const table = (caption, rows) =>
    [`**${caption}**`, '', `| % of busy | ms${head} | what |`, `|---:|---:${sep}|---|`, ...rows.map((r) => `| ${r.pct.toFixed(1)} | ${r.ms.toFixed(1)}${perReq(r.ms)} | ${r.name.replace(/\|/g, '\\|')} |`), ''].join('\n');
  return [
    `### ${title}`,
    '',
    `profiled window ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms (${pct(s.busyMs, s.wallMs).toFixed(0)} % of one core), idle ${s.idleMs.toFixed(0)} ms, ${s.samples} samples${requests ? `, ${requests} requests` : ''}`,
    '',
    table('By package / project library (self time)', s.byPackage),
    table('By owner (innermost project frame on the stack, else the outermost package that entered it)', s.byOwner),
    table('Top functions by self time', s.selfTop),
    table('Top functions by inclusive time', s.inclusiveTop),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/lib/profile-summary.mjs <file.cpuprofile> [topN] [requests]');
    process.exit(2);
  }
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')), Number(process.argv[3] ?? 25));
  console.log(summaryMarkdown(path.basename(file), s, Number(process.argv[4] ?? 0) || undefined));
}
