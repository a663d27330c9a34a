/**
 * Writing a new scalar value into YAML without changing its type: keep the existing quote style, and quote a
 * plain scalar whose new text would read as something other than a string in YAML 1.1 or 1.2.
 */

const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const NULLS = /^(~|null|Null|NULL|)$/;
const INT = /^[-+]?(0b[0-1_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*|[1-9][0-9_]*(:[0-5]?[0-9])+)$/;
const FLOAT =
  /^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/;
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ]|\s+)?([0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?)?/;

/** True when a plain scalar with this text would not be read back as the same string. */
export function needsQuotes(value: string): boolean {
  if (
    YAML11_BOOL.test(value) ||
    NULLS.test(value) ||
    INT.test(value) ||
    FLOAT.test(value) ||
    TIMESTAMP.test(value)
  )
    return true;
  if (/^[\s]|[\s]$/.test(value)) return true;
  // Indicators that cannot start a plain scalar, and sequences that end one.
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(value) && !/^[-?:][^\s,[\]{}]/.test(value)) return true;
  if (/: |:$| #|[\n\r\t]/.test(value)) return true;
  if (value === '<<' || value === '=') return true;
  return false;
}

export function doubleQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The source text for `value` in the style of the scalar it replaces. */
export function formatScalar(value: string, style: 'plain' | 'single' | 'double'): string {
  if (style === 'double') return doubleQuote(value);
  if (style === 'single') return /[\n\r]/.test(value) ? doubleQuote(value) : singleQuote(value);
  return needsQuotes(value) ? doubleQuote(value) : value;
}
