/** The id of the current credit-limit period of a key (UTC; weeks run Monday to Sunday). */
export function limitPeriodId(reset: 'never' | 'daily' | 'weekly' | 'monthly', nowMs: number): string {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = String(d.getUTCMonth() + 1).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, '0');
  switch (reset) {
    case 'never':
      return 'never';
    case 'daily':
      return `d${y}-${m}-${day}`;
    case 'monthly':
      return `m${y}-${m}`;
    case 'weekly': {
      const monday = new Date(Date.UTC(y, d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7)));
      return `w${monday.toISOString().slice(0, 10)}`;
    }
  }
}
