import { crc32 } from 'node:zlib';

/**
 * Picks an index by weight. With a sticky key the draw is a hash of the key instead of a random
 * number, so one end user keeps landing on the same side of a split.
 */
export function weightedPick(weights: readonly number[], draw: number): number {
  const total = weights.reduce((a, w) => a + w, 0);
  if (total <= 0) return 0;
  let x = draw * total;
  for (let i = 0; i < weights.length; i++) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return weights.length - 1;
}

/** A stable draw in [0, 1) from a key (crc32 spreads user ids evenly enough for percentages). */
export function stickyDraw(key: string): number {
  return crc32(Buffer.from(key, 'utf8')) / 0x1_0000_0000;
}
