import { setFlagsFromString } from 'node:v8';

/**
 * Imported first by main.ts, before anything compiles WebAssembly or the heap has grown (both
 * flags are read when used, so setting them at run time works; the benchmark measures the effect):
 *
 * - Prisma's query compiler is a 3.4 MB WebAssembly module; optimising it (TurboFan) costs ~50 MB
 *   of resident memory for queries the gateway only runs on cache misses. Liftoff code is enough.
 * - Under load V8 grows the old generation lazily (to ~200 MB of heap for ~60 MB live here);
 *   growing it by 20% per major GC keeps the heap near its live size at no measurable CPU cost.
 */
setFlagsFromString('--liftoff-only');
setFlagsFromString('--heap-growing-percent=20');
