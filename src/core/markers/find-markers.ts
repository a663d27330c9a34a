/**
 * Locate every marked scalar in a YAML text, with its exact byte span, using the yaml CST (no re-serialising).
 * Files that do not parse as YAML (templates) are handled by the line-level reader in template-markers.ts.
 */
import { Composer, CST, isMap, LineCounter as LC, Parser, type parseAllDocuments } from 'yaml';
import type { ObjectId } from '../domain/types.js';
import { MARKER_TOKEN, type MarkerSpec, parseMarkerComment } from './marker-grammar.js';
import { readPlainYamlMarkers } from './plain-yaml.js';

export type ScalarStyle = 'plain' | 'single' | 'double';

export interface Marker extends MarkerSpec {
  /** Offsets of the value's source text (quotes included) in the file, `[start, end)`. */
  readonly start: number;
  readonly end: number;
  /** The value as YAML reads it (unquoted, unescaped). */
  readonly value: string;
  readonly style: ScalarStyle;
  /** 1-based. */
  readonly line: number;
  readonly column: number;
  readonly object?: ObjectId;
}

export interface FoundMarkers {
  readonly markers: Marker[];
  /** True when the text is not plain YAML (a template must use the line-level reader; YAML is an error). */
  readonly unparsable: boolean;
  /** The first problem that makes the text unparsable, with its 1-based line. */
  readonly error?: { readonly line: number; readonly message: string };
}

type CstScalar = CST.FlowScalar;

function styleOf(t: CstScalar): ScalarStyle {
  return t.type === 'single-quoted-scalar'
    ? 'single'
    : t.type === 'double-quoted-scalar'
      ? 'double'
      : 'plain';
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The comment on the same line after `end`, allowing only spaces (and, for flow items, one `,`) between. */
function lineCommentAfter(text: string, end: number, inFlow: boolean): string | undefined {
  const rest = text.slice(end, text.indexOf('\n', end) < 0 ? text.length : text.indexOf('\n', end));
  const m = (inFlow ? /^[ \t]*,?[ \t]+(#.*?)\r?$/ : /^[ \t]+(#.*?)\r?$/).exec(rest);
  if (m) return m[1];
  return undefined;
}

/** A single comment line directly above the line holding `offset` (a block sequence item's head comment). */
function headComment(text: string, offset: number): string | undefined {
  const ls = lineStartOf(text, offset);
  if (ls === 0) return undefined;
  const lines: string[] = [];
  let end = ls - 1; // the '\n' ending the previous line
  for (;;) {
    const start = lineStartOf(text, end);
    const line = text.slice(start, end).replace(/\r$/, '');
    if (!/^[ \t]*#/.test(line)) break;
    lines.push(line.trim());
    if (start === 0) break;
    end = start - 1;
  }
  return lines.length === 1 ? lines[0] : undefined;
}

type Docs = ReturnType<typeof parseAllDocuments>;

function objectIds(docs: Docs): { start: number; end: number; id?: ObjectId }[] {
  return (Array.isArray(docs) ? docs : [docs]).flatMap((doc) => {
    if (!('contents' in doc) || !isMap(doc.contents)) return [];
    // Only the four fields an object id needs, not the whole document as JS.
    const apiVersion = doc.get('apiVersion');
    const kind = doc.get('kind');
    const name = doc.getIn(['metadata', 'name']);
    const namespace = doc.getIn(['metadata', 'namespace']);
    const range = doc.range;
    const id: ObjectId | undefined =
      typeof apiVersion === 'string' && typeof kind === 'string' && typeof name === 'string'
        ? { apiVersion, kind, name, ...(typeof namespace === 'string' && { namespace }) }
        : undefined;
    if (!range) return [];
    return [{ start: range[0], end: range[2], ...(id && { id }) }];
  });
}

export function findYamlMarkers(text: string): FoundMarkers {
  if (!text.includes(MARKER_TOKEN)) return { markers: [], unparsable: false };
  // Most manifests have the plain shape the line reader knows; it answers the same, ten times cheaper.
  const plain = readPlainYamlMarkers(text);
  if (plain) return { markers: plain, unparsable: false };
  return findYamlMarkersWithLibrary(text);
}

/** The markers as the `yaml` library reads them (every file the plain reader declines). */
export function findYamlMarkersWithLibrary(text: string): FoundMarkers {
  if (!text.includes(MARKER_TOKEN)) return { markers: [], unparsable: false };
  const lc = new LC();
  let docs: ReturnType<typeof objectIds>;
  // Lex and parse once: the CST tokens serve both the composed documents (errors, object ids) and the walk.
  const tokens = [...new Parser(lc.addNewLine).parse(text)];
  try {
    const composed = [...new Composer().compose(tokens, true, text.length)];
    const first = composed.flatMap((d) => d.errors)[0];
    if (first) {
      const line = first.linePos?.[0]?.line ?? lc.linePos(first.pos[0]).line;
      return { markers: [], unparsable: true, error: { line, message: first.message.split('\n')[0]! } };
    }
    docs = objectIds(composed as unknown as ReturnType<typeof parseAllDocuments>);
  } catch {
    return { markers: [], unparsable: true };
  }
  const markers: Marker[] = [];
  for (const token of tokens) {
    if (token.type !== 'document') continue;
    CST.visit(token, (item, path) => {
      const v = item.value;
      if (
        !v ||
        (v.type !== 'scalar' && v.type !== 'single-quoted-scalar' && v.type !== 'double-quoted-scalar')
      )
        return;
      const parent = CST.visit.parentCollection(token, path);
      const inFlow = parent.type === 'flow-collection';
      const isSeqItem = parent.type === 'block-seq';
      // Mapping values and sequence items only; never keys (the CST item's value of a map is the value).
      if (parent.type === 'block-map' && !item.sep?.some((t) => t.type === 'map-value-ind')) return;
      if (inFlow && parent.start.source !== '[') return;
      const start = v.offset;
      const end = v.offset + v.source.length;
      if (v.source.includes('\n')) return; // multi-line scalars are left alone
      const line = lineCommentAfter(text, end, inFlow);
      let spec: MarkerSpec | undefined;
      if (line !== undefined) spec = parseMarkerComment(line);
      else if (isSeqItem) {
        const head = headComment(text, start);
        if (head !== undefined) spec = parseMarkerComment(head);
      }
      if (!spec) return;
      const resolved = CST.resolveAsScalar(v);
      const pos = lc.linePos(start);
      const object = docs.find((d) => start >= d.start && start < d.end)?.id;
      markers.push({
        ...spec,
        start,
        end,
        value: resolved.value,
        style: styleOf(v),
        line: pos.line,
        column: pos.col,
        ...(object && { object }),
      });
    });
  }
  return { markers, unparsable: false };
}
