/**
 * Rewrite marked values in place. Only the bytes of each marked value change; everything else in the file
 * (line endings, BOM, quoting of other values, comments, blank lines, anchors) stays byte-identical.
 */
import type { MarkerChange, PolicyResult, PolicyResults, Warning } from '../domain/types.js';
import { isTemplateFile } from './files.js';
import { findYamlMarkers, type Marker } from './find-markers.js';
import { MARKER_TOKEN } from './marker-grammar.js';
import { formatScalar } from './quote.js';
import { findTemplateMarkers } from './template-markers.js';

export interface RewriteResult {
  readonly text: string;
  readonly changes: MarkerChange[];
  readonly warnings: Warning[];
}

/**
 * Every marker in a file: the line-level reader for templates (helmfile `*.gotmpl`, Helm `templates/`), the
 * YAML reader for the rest. A YAML file that does not parse is left alone, with a warning naming the line:
 * rewriting it line by line could change what the broken part means once someone fixes it.
 */
export function readMarkers(path: string, text: string): { markers: Marker[]; warnings: Warning[] } {
  if (!text.includes(MARKER_TOKEN)) return { markers: [], warnings: [] };
  if (isTemplateFile(path, text)) return { markers: findTemplateMarkers(text), warnings: [] };
  const found = findYamlMarkers(text);
  if (!found.unparsable) return { markers: found.markers, warnings: [] };
  const line = found.error?.line ?? 1;
  return {
    markers: [],
    warnings: [
      {
        code: 'yaml-invalid',
        message: `${path}:${line}: not valid YAML (${found.error?.message ?? 'parse error'}); its markers are left alone until the file parses — fix the YAML, or name it *.gotmpl if it is a template`,
        file: path,
        line,
      },
    ],
  };
}

export function findMarkers(path: string, text: string): Marker[] {
  return readMarkers(path, text).markers;
}

function newValue(m: Marker, r: PolicyResult): string | undefined {
  switch (m.field) {
    case 'ref':
      return `${r.name}:${r.tag}${r.digest ? `@${r.digest}` : ''}`;
    case 'tag':
      return r.tag;
    case 'name':
      return r.name;
    case 'digest':
      return r.digest;
  }
}

export function rewriteMarkers(path: string, text: string, results: PolicyResults): RewriteResult {
  if (!text.includes(MARKER_TOKEN)) return { text, changes: [], warnings: [] };
  const read = readMarkers(path, text);
  const out = applyMarkers(path, text, read.markers, results);
  return { ...out, warnings: [...read.warnings, ...out.warnings] };
}

/**
 * Rewrite the given markers of a file (found once by `findMarkers`, possibly a subset of them) with the
 * policies' results. A run reads each file's markers once and applies them for every group it plans.
 */
export function applyMarkers(
  path: string,
  text: string,
  markers: readonly Marker[],
  results: PolicyResults,
): RewriteResult {
  const warnings: Warning[] = [];
  const changes: MarkerChange[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  for (const m of markers) {
    const r = results[m.key];
    if (!r) {
      if (Object.keys(results).length > 0) {
        warnings.push({
          code: 'marker-unknown-policy',
          message: `${path}:${m.line}: marker names policy "${m.key}", which is not defined (or not selected) in this run`,
          file: path,
          line: m.line,
        });
      }
      continue;
    }
    const value = newValue(m, r);
    if (value === undefined) {
      warnings.push({
        code: 'marker-digest-unknown',
        message: `${path}:${m.line}: "${m.setter}" asks for a digest, but policy ${m.key} has none (set digestReflectionPolicy); left unchanged`,
        file: path,
        line: m.line,
      });
      continue;
    }
    if (value === m.value) continue;
    edits.push({ start: m.start, end: m.end, text: formatScalar(value, m.style) });
    changes.push({
      file: path,
      line: m.line,
      column: m.column,
      setter: m.setter,
      key: m.key,
      field: m.field,
      old: m.value,
      new: value,
      ...(m.object && { object: m.object }),
    });
  }
  if (edits.length === 0) return { text, changes, warnings };
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  out += text.slice(at);
  return { text: out, changes, warnings };
}
