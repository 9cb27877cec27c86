/**
 * A log line at most every `everyMs`, for errors that come in bursts (a reconnecting client emits
 * one per attempt while its server is away); the line says how many were left out since the last.
 */
export function throttledLog(log: (message: string) => void, everyMs = 10_000): (message: string) => void {
  let lastAt = -Infinity;
  let skipped = 0;
  return (message: string) => {
    const now = Date.now();
    if (now - lastAt < everyMs) {
      skipped++;
      return;
    }
    log(skipped ? `${message} (and ${skipped} more like it since the last one logged)` : message);
    lastAt = now;
    skipped = 0;
  };
}
