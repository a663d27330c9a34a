/**
 * Durations as people write them in config: `72h`, `3d`, `1h30m`, `90s`, `500ms`. A unit is required: a bare
 * number is refused rather than guessed (people mean seconds, minutes or hours far more often than ms).
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Milliseconds, or undefined when `raw` is not a duration with units. */
export function parseDuration(raw: string): number | undefined {
  const s = raw.trim();
  if (s === '' || s.length > 40) return undefined;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Math.round(ms);
}

/** What to write instead of a value that is not a duration. */
export function durationHint(raw: unknown): string {
  const s = String(raw).trim();
  return /^\d+(\.\d+)?$/.test(s)
    ? `a duration needs a unit: write ${s}h, ${s}m or ${s}s`
    : `expected a duration such as 72h, 3d, 30m or 1h30m, got ${JSON.stringify(raw)}`;
}

/** `259200000` → `3d`, `5400000` → `1h30m`: the largest units that divide it. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['d', UNIT_MS.d!],
    ['h', UNIT_MS.h!],
    ['m', UNIT_MS.m!],
    ['s', UNIT_MS.s!],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 && parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}
