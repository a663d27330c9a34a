/**
 * `git push --porcelain` output, parsed (git-push(1), OUTPUT): one line per ref,
 * `<flag> \t <from>:<to> \t <summary>`, flag `' '` fast-forward, `+` forced, `-` deleted, `*` new, `=` up to
 * date, `!` rejected. A rejection's summary is `[rejected] (<reason>)` when git refused locally (the lease was
 * stale, the remote moved) or `[remote rejected] (<reason>)` when the server refused (a protected branch, a
 * hook). Only the first kind means "someone moved the branch": the run starts over on fresh facts.
 */
export interface PushedRef {
  readonly flag: ' ' | '+' | '-' | '*' | '=' | '!';
  readonly from: string;
  readonly to: string;
  readonly summary: string;
}

export function parsePushPorcelain(output: string): PushedRef[] {
  const out: PushedRef[] = [];
  for (const line of output.split('\n')) {
    const m = /^([ +\-*=!])\t([^\t]*):([^\t]*)\t(.*)$/.exec(line.replace(/\r$/, ''));
    if (m) out.push({ flag: m[1] as PushedRef['flag'], from: m[2]!, to: m[3]!, summary: m[4]! });
  }
  return out;
}

/** Reasons git gives for refusing a push because the remote ref is not where we expected it. */
const MOVED = new Set(['stale info', 'fetch first', 'non-fast-forward']);

/** The push was refused because the branch moved (a lost compare-and-swap), and for no other reason. */
export function branchMoved(refs: readonly PushedRef[]): boolean {
  const rejected = refs.filter((r) => r.flag === '!');
  return (
    rejected.length > 0 &&
    rejected.every((r) => {
      const m = /^\[rejected\] \((.+)\)$/.exec(r.summary);
      return m !== null && MOVED.has(m[1]!);
    })
  );
}
