/**
 * A line reader for the plain shape nearly every Kubernetes manifest has — block maps and sequences of
 * one-line scalars, comments, `---`, block scalars, one-line flow collections of simple words — that finds the
 * same markers and object ids as the `yaml` library (find-markers.ts) at a tenth of the cost.
 *
 * It is a screen, not a YAML parser: anything outside that shape (anchors, tags, multi-line or escaped
 * scalars, complex keys, tabs, a marker in a head comment or a flow collection, a key that repeats, an
 * indentation it cannot place, …) makes it answer `undefined`, and the caller parses the file with the `yaml`
 * library, which also names the line of a real error. Whenever it does answer, the answer equals the
 * library's: `test/core/markers/plain-yaml.test.ts` compares both on every fixture and on generated and
 * mutated files. Parsing is 70 % of a run over a large repo; this is why it exists (docs/benchmarks.md).
 */
import type { ObjectId } from '../domain/types.js';
import { MARKER_TOKEN, type MarkerSpec, parseMarkerComment } from './marker-grammar.js';

export type PlainStyle = 'plain' | 'single' | 'double';

export interface PlainMarker extends MarkerSpec {
  readonly start: number;
  readonly end: number;
  readonly value: string;
  readonly style: PlainStyle;
  readonly line: number;
  readonly column: number;
  readonly object?: ObjectId;
}

interface Container {
  readonly indent: number;
  readonly kind: 'map' | 'seq';
  readonly keys: Set<string>;
  /** The document's top-level map, or the `metadata` map under it: where an object id is read. */
  readonly role?: 'root' | 'metadata';
  /** A sequence written at its key's own column (`key:` then `- a` below it, not indented). */
  readonly atKeyColumn?: boolean;
}

/** A key whose value is on the following lines. */
interface Pending {
  readonly indent: number;
  readonly fromMap: boolean;
  readonly role?: 'metadata';
}

/** One scalar as written: its source span, resolved text and style. */
interface Scalar {
  readonly start: number;
  readonly source: string;
  readonly value: string;
  readonly style: PlainStyle;
}

const KEY = /^([A-Za-z0-9_][A-Za-z0-9_./-]*):(?= |$)/;
/** A flow item: a word (`--port`, `/ready`, `8080`) or a quoted string without escapes or separators. */
const WORD = String.raw`(?:-{0,2}[A-Za-z0-9_./+][A-Za-z0-9_./+=-]*|"[^"\\,#[\]{}]*"|'[^',#[\]{}]*')`;
const FLOW_WORD = new RegExp(`^${WORD}$`);
const FLOW_PAIR = new RegExp(`^([A-Za-z0-9_][A-Za-z0-9_./-]*): +${WORD}$`);
const BLOCK_HEADER = /^[|>][-+]?( +#.*)?$/;
const TRAILER = /^(?: *| +#.*)$/;
/** Plain scalars the YAML 1.2 core schema reads as null, bool, int or float (not as a string). */
const CORE_NOT_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const ID_FIELDS = { root: ['apiVersion', 'kind'], metadata: ['name', 'namespace'] } as const;

class NotPlain extends Error {}
const notPlain = (): never => {
  throw new NotPlain();
};

/**
 * The markers of a YAML text, with their object ids, when the text has the plain shape; `undefined` when it
 * does not (the caller then parses it with the `yaml` library).
 */
export function readPlainYamlMarkers(text: string): PlainMarker[] | undefined {
  try {
    return read(text);
  } catch (err) {
    if (err instanceof NotPlain) return undefined;
    throw err;
  }
}

function read(text: string): PlainMarker[] {
  if (text.charCodeAt(0) === 0xfeff || text.includes('\t')) notPlain();
  const out: PlainMarker[] = [];
  let docMarkers: Omit<PlainMarker, 'object'>[] = [];
  let ids: Record<string, string> = {};
  let stack: Container[] = [];
  let pending: Pending | undefined;
  /** Inside a block scalar: its parent's indentation, and its content's once the first line sets it. */
  let block: { parent: number; content?: number } | undefined;

  const endDocument = () => {
    const id: ObjectId | undefined =
      ids.apiVersion !== undefined && ids.kind !== undefined && ids.name !== undefined
        ? {
            apiVersion: ids.apiVersion,
            kind: ids.kind,
            name: ids.name,
            ...(ids.namespace !== undefined && { namespace: ids.namespace }),
          }
        : undefined;
    for (const m of docMarkers) out.push(id ? { ...m, object: id } : m);
    docMarkers = [];
    ids = {};
    stack = [];
    pending = undefined;
    block = undefined;
  };

  /** The container an item of `kind` at column `n` belongs to (a new one when it opens a pending value). */
  const place = (kind: 'map' | 'seq', n: number): Container => {
    if (pending) {
      const p = pending;
      pending = undefined;
      if (n > p.indent || (kind === 'seq' && p.fromMap && n === p.indent)) {
        if (p.role === 'metadata' && kind !== 'map') notPlain();
        const c: Container = {
          indent: n,
          kind,
          keys: new Set(),
          ...(p.role && { role: p.role }),
          ...(n === p.indent && { atKeyColumn: true }),
        };
        stack.push(c);
        return c;
      }
      if (p.role === 'metadata') notPlain(); // `metadata:` with no map under it
    }
    while (stack.length > 0 && stack[stack.length - 1]!.indent > n) stack.pop();
    let top = stack[stack.length - 1];
    if (top?.atKeyColumn && top.indent === n && kind === 'map') {
      stack.pop(); // a sequence written at its key's column ends at the next key
      top = stack[stack.length - 1];
    }
    if (top) {
      if (top.indent === n && top.kind === kind) return top;
      return notPlain();
    }
    if (n !== 0) notPlain();
    const root: Container = { indent: 0, kind, keys: new Set(), ...(kind === 'map' && { role: 'root' }) };
    stack.push(root);
    return root;
  };

  // A carriage return that does not end a line is something only the library reads right.
  if (/\r(?!\n)/.test(text)) notPlain();
  let token = text.indexOf(MARKER_TOKEN);
  let lineNo = 0;
  let at = 0;
  while (at <= text.length) {
    const nl = text.indexOf('\n', at);
    const start = at;
    const lineEnd = nl < 0 ? text.length : nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    at = (nl < 0 ? text.length : nl) + 1;
    lineNo++;
    let n = 0;
    while (text.charCodeAt(start + n) === 32) n++;
    const blank = start + n >= lineEnd;

    if (block) {
      if (blank) {
        if (block.content === undefined && n > 0) notPlain(); // leading blank lines with spaces
        continue;
      }
      if (n > block.parent) {
        if (block.content === undefined) block.content = n;
        else if (n < block.content) notPlain();
        continue;
      }
      block = undefined;
    }
    // The marker token on this line? (Found once per occurrence, not searched for on every line.)
    while (token >= 0 && token < start) token = text.indexOf(MARKER_TOKEN, token + 1);
    const hasToken = token >= 0 && token < lineEnd;
    if (blank) continue;
    const rest = text.slice(start + n, lineEnd);
    if (rest.charCodeAt(0) === 35 /* # */) {
      if (hasToken) notPlain(); // maybe a sequence item's head comment
      continue;
    }
    if (n === 0 && rest.startsWith('---')) {
      if (!TRAILER.test(rest.slice(3))) notPlain();
      endDocument();
      continue;
    }
    if (n === 0 && (rest.startsWith('...') || rest.startsWith('%'))) notPlain();

    let col = n;
    let body = rest;
    let container: Container;
    if (body === '-' || body.startsWith('- ')) {
      const seq = place('seq', n);
      let k = 1;
      while (body.charCodeAt(k) === 32) k++;
      col = n + k;
      body = body.slice(k);
      if (body === '' || body.startsWith('#')) {
        if (hasToken) notPlain();
        pending = { indent: n, fromMap: false };
        continue;
      }
      if (body === '-' || body.startsWith('- ')) notPlain();
      const key = KEY.exec(body);
      if (!key) {
        entryValue(seq, undefined, body, start + col, lineNo, col, hasToken, n);
        continue;
      }
      container = { indent: col, kind: 'map', keys: new Set() };
      stack.push(container);
    } else {
      container = place('map', n);
    }
    const key = KEY.exec(body);
    if (!key) return notPlain();
    const name = key[1]!;
    if (name.length > 1000 || CORE_NOT_STRING.test(name) || container.keys.has(name)) notPlain();
    container.keys.add(name);
    let v = name.length + 1;
    while (body.charCodeAt(v) === 32) v++;
    entryValue(container, name, body.slice(v), start + col + v, lineNo, col + v, hasToken, col);
  }
  endDocument();
  return out;

  /**
   * The value of a map entry (`key` set) or of a sequence item, written from `offset` (column `column`) to the
   * end of its line. `parentIndent` is the column of the entry's container.
   */
  function entryValue(
    container: Container,
    key: string | undefined,
    value: string,
    offset: number,
    line: number,
    column: number,
    hasToken: boolean,
    parentIndent: number,
  ): void {
    const idField =
      key !== undefined && container.role !== undefined
        ? (ID_FIELDS[container.role] as readonly string[]).includes(key)
        : false;
    if (value === '' || value.startsWith('#')) {
      if (hasToken || idField) notPlain();
      pending = {
        indent: parentIndent,
        fromMap: key !== undefined,
        ...(key === 'metadata' && container.role === 'root' && { role: 'metadata' as const }),
      };
      return;
    }
    if (key === 'metadata' && container.role === 'root') notPlain();
    const c = value.charCodeAt(0);
    if (c === 124 /* | */ || c === 62 /* > */) {
      if (!BLOCK_HEADER.test(value) || hasToken || idField) notPlain();
      block = { parent: parentIndent };
      return;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (hasToken || idField) notPlain();
      flowCollection(value);
      return;
    }
    const scalar = scalarAt(value, offset);
    const trailer = value.slice(scalar.source.length);
    if (!TRAILER.test(trailer)) notPlain();
    if (idField) {
      if (scalar.style === 'plain' && CORE_NOT_STRING.test(scalar.value)) notPlain();
      ids[key!] = scalar.value;
    }
    if (!hasToken) return;
    const hash = trailer.indexOf('#');
    // The token outside the comment (inside a quoted value): leave such a line to the yaml library.
    if (hash < 0 || !trailer.slice(hash).includes(MARKER_TOKEN)) notPlain();
    const spec = parseMarkerComment(trailer.slice(hash));
    if (!spec) return;
    docMarkers.push({
      ...spec,
      start: scalar.start,
      end: scalar.start + scalar.source.length,
      value: scalar.value,
      style: scalar.style,
      line,
      column: column + 1,
    });
  }
}

/** A one-line scalar at the start of `value` (the rest of its line); `offset` is where it starts in the file. */
function scalarAt(value: string, offset: number): Scalar {
  const c = value.charCodeAt(0);
  if (c === 39 /* ' */) {
    let i = 1;
    for (;;) {
      const q = value.indexOf("'", i);
      if (q < 0) return notPlain();
      if (value.charCodeAt(q + 1) === 39) {
        i = q + 2;
        continue;
      }
      const source = value.slice(0, q + 1);
      return { start: offset, source, value: source.slice(1, -1).replaceAll("''", "'"), style: 'single' };
    }
  }
  if (c === 34 /* " */) {
    const q = value.indexOf('"', 1);
    if (q < 0 || value.lastIndexOf('\\', q) > 0) return notPlain();
    const source = value.slice(0, q + 1);
    return { start: offset, source, value: source.slice(1, -1), style: 'double' };
  }
  // Indicators that start something other than a plain scalar (anchors, aliases, tags, directives, …).
  if ('&*!%@`?:,]}#'.includes(value[0]!) || (c === 45 /* - */ && value.charCodeAt(1) === 32))
    return notPlain();
  const hash = value.indexOf(' #');
  const source = (hash < 0 ? value : value.slice(0, hash)).trimEnd();
  if (source.includes(': ') || source.endsWith(':')) return notPlain();
  return { start: offset, source, value: source, style: 'plain' };
}

/** A flow collection of simple words, closed on its line, with a comment at most after it. */
function flowCollection(value: string): void {
  const map = value[0] === '{';
  const close = value.indexOf(map ? '}' : ']');
  if (close < 0 || !TRAILER.test(value.slice(close + 1))) notPlain();
  const inner = value.slice(1, close).trim();
  if (inner === '') return;
  const keys = new Set<string>();
  for (const raw of inner.split(',')) {
    const item = raw.trim();
    if (map) {
      const pair = FLOW_PAIR.exec(item);
      if (!pair || CORE_NOT_STRING.test(pair[1]!) || keys.has(pair[1]!)) notPlain();
      keys.add(pair![1]!);
    } else if (!FLOW_WORD.test(item)) notPlain();
  }
}
