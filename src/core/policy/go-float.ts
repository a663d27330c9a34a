/**
 * Go's `strconv.ParseFloat(s, 64)` grammar, with values kept exact for ordering: integers beyond 2^53 and
 * long decimals compare exactly instead of colliding as float64s do (a deliberate improvement on Flux).
 */

export type GoFloat =
  | { readonly kind: 'finite'; readonly num: bigint; readonly den: bigint; readonly approx: number }
  | { readonly kind: 'inf'; readonly sign: 1 | -1 }
  | { readonly kind: 'nan' };

const DEC =
  /^([+-]?)((?:[0-9](?:_?[0-9])*)?)(?:\.((?:[0-9](?:_?[0-9])*)?))?(?:[eE]([+-]?[0-9](?:_?[0-9])*))?$/;
const HEX =
  /^([+-]?)0[xX](_?[0-9a-fA-F](?:_?[0-9a-fA-F])*)?(?:\.((?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?))?[pP]([+-]?[0-9](?:_?[0-9])*)$/;
const EXACT_LIMIT = 400;

function pow(base: bigint, exp: number): bigint {
  return base ** BigInt(exp);
}

/** Returns the value, or an error string naming why Go would reject it. */
export function parseGoFloat(input: string): GoFloat | { readonly kind: 'error'; readonly reason: string } {
  const s = input;
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return { kind: 'inf', sign: special[1] === '-' ? -1 : 1 };
  if (/^[+-]?nan$/i.test(s)) return { kind: 'nan' };
  let sign = 1n;
  let num: bigint;
  let den = 1n;
  const hex = HEX.exec(s);
  if (hex) {
    const intPart = (hex[2] ?? '').replace(/_/g, '');
    const frac = (hex[3] ?? '').replace(/_/g, '');
    if (intPart === '' && frac === '') return { kind: 'error', reason: 'invalid syntax' };
    sign = hex[1] === '-' ? -1n : 1n;
    const exp = Number((hex[4] ?? '0').replace(/_/g, '')) - 4 * frac.length;
    const mant = BigInt(`0x${intPart || '0'}${frac}`);
    const approx = Number(sign) * Number(mant) * 2 ** exp;
    if (!Number.isFinite(approx)) return { kind: 'error', reason: 'value out of range' };
    if (Math.abs(exp) > 4 * EXACT_LIMIT) return { kind: 'finite', num: 0n, den: 1n, approx };
    num = exp >= 0 ? mant * pow(2n, exp) : mant;
    den = exp >= 0 ? 1n : pow(2n, -exp);
    return { kind: 'finite', num: sign * num, den, approx };
  }
  const dec = DEC.exec(s);
  if (!dec) return { kind: 'error', reason: 'invalid syntax' };
  const intPart = (dec[2] ?? '').replace(/_/g, '');
  const frac = (dec[3] ?? '').replace(/_/g, '');
  if (intPart === '' && frac === '') return { kind: 'error', reason: 'invalid syntax' };
  sign = dec[1] === '-' ? -1n : 1n;
  const exp = Number((dec[4] ?? '0').replace(/_/g, '')) - frac.length;
  const approx = Number(
    `${dec[1]}${intPart || '0'}.${frac || '0'}e${Number((dec[4] ?? '0').replace(/_/g, ''))}`,
  );
  if (!Number.isFinite(approx)) return { kind: 'error', reason: 'value out of range' };
  const mant = BigInt(`${intPart}${frac}` || '0');
  if (mant === 0n) return { kind: 'finite', num: 0n, den: 1n, approx: 0 };
  if (Math.abs(exp) > EXACT_LIMIT) return { kind: 'finite', num: sign * mant, den: 1n, approx }; // compared by approx
  num = exp >= 0 ? mant * pow(10n, exp) : mant;
  den = exp >= 0 ? 1n : pow(10n, -exp);
  return { kind: 'finite', num: sign * num, den, approx };
}

function exactComparable(v: GoFloat & { kind: 'finite' }): boolean {
  return v.approx === 0 || (Math.abs(v.approx) < 1e300 && Math.abs(v.approx) > 1e-300);
}

/** -1, 0 or 1. NaN is never passed here (the caller skips it). */
export function compareGoFloats(a: GoFloat, b: GoFloat): number {
  if (a.kind === 'nan' || b.kind === 'nan') throw new Error('NaN cannot be ordered');
  if (a.kind === 'inf' || b.kind === 'inf') {
    const av = a.kind === 'inf' ? a.sign * Number.POSITIVE_INFINITY : a.approx;
    const bv = b.kind === 'inf' ? b.sign * Number.POSITIVE_INFINITY : b.approx;
    return av < bv ? -1 : av > bv ? 1 : 0;
  }
  if (!exactComparable(a) || !exactComparable(b))
    return a.approx < b.approx ? -1 : a.approx > b.approx ? 1 : 0;
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}
