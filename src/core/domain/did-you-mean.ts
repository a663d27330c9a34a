/**
 * "Did you mean": the known word a typo most likely meant — at most two edits away, case ignored. Shared by
 * every configuration surface that reports unknown fields.
 */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const v of known) {
    // Two edits cannot bridge a length difference of three or more: skip without the quadratic work (a 1 MiB
    // key from a hostile config costs nothing).
    if (Math.abs(v.length - word.length) >= bestD) continue;
    const d = editDistance(word, v);
    if (d < bestD) [best, bestD] = [v, d];
  }
  return best;
}

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The fields of `obj` not in `known`, each as `{ path, message }` with "did you mean" over the fields allowed at
 * that very place (or the list, when nothing is near). One wording for every configuration surface.
 */
export function unknownFieldErrors(
  obj: Readonly<Record<string, unknown>>,
  known: readonly string[],
  path: string,
): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue;
    const hint = didYouMean(k, known);
    out.push({
      path: `${path}.${k}`,
      message: `unknown field${hint ? `; did you mean "${hint}"?` : `; known fields: ${known.join(', ')}`}`,
    });
  }
  return out;
}
