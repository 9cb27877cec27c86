// Preloaded (node -r) into every server the bench starts.
//  * Dies with the bench: when the IPC channel to the bench closes (the bench exited or crashed),
//    the process sends itself SIGTERM and is force-exited 5 s later, so nothing outlives a run.
//  * On request over IPC, records a V8 CPU profile of exactly the measured window
//    ({type:'prof-start', intervalUs} ... {type:'prof-stop', file}); the process keeps running.
//  * On request over IPC ({type:'mem'}), answers with process.memoryUsage() (heap vs the rest of RSS)
//    and the active handles and requests by type (sockets, timers: what a leak would grow).
'use strict';
if (process.channel) {
  const fs = require('node:fs');
  let session = null;
  process.on('disconnect', () => {
    setTimeout(() => process.exit(1), 5000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  process.on('message', (m) => {
    if (!m || typeof m !== 'object') return;
    if (m.type === 'mem') {
      // With m.gc (and node --expose-gc), a full GC first: live heap vs garbage not yet collected.
      if (m.gc && typeof global.gc === 'function') global.gc();
      const pkgs = new Set();
      for (const f of Object.keys(require.cache)) {
        const i = f.lastIndexOf('/node_modules/');
        if (i < 0) continue;
        const parts = f.slice(i + 14).split('/');
        pkgs.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
      }
      const spaces = {};
      for (const sp of require('node:v8').getHeapSpaceStatistics()) spaces[sp.space_name] = { size: sp.space_size, used: sp.space_used_size };
      const resources = {};
      for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
      process.send?.({ type: 'mem', usage: process.memoryUsage(), spaces, resources, gc: !!(m.gc && global.gc), modules: Object.keys(require.cache).length, packages: [...pkgs].sort() });
    } else if (m.type === 'prof-start' && !session) {
      const inspector = require('node:inspector');
      session = new inspector.Session();
      session.connect();
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: m.intervalUs || 200 }, () =>
          session.post('Profiler.start', () => process.send?.({ type: 'prof-started' })),
        ),
      );
    } else if (m.type === 'prof-stop' && session) {
      const s = session;
      session = null;
      s.post('Profiler.stop', (err, res) => {
        if (!err) fs.writeFileSync(m.file, JSON.stringify(res.profile));
        s.disconnect();
        process.send?.({ type: 'prof-written', file: m.file, error: err ? String(err.message ?? err) : undefined });
      });
    }
  });
  // The channel must not keep a server alive after its own graceful shutdown.
  process.channel.unref();
}
