/**
 * Line-level markers for files that are not plain YAML (helmfile `*.gotmpl`, Helm `templates/`): the same
 * grammar and quoting rules, applied to `key: value # {marker}` and `- value # {marker}` lines.
 */

import type { Marker } from './find-markers.js';
import { MARKER_TOKEN, parseMarkerComment } from './marker-grammar.js';

const VALUE = String.raw`("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{}\[\],][^\s#]*)`;
const KEY_LINE = new RegExp(
  String.raw`^([ \t]*(?:-[ \t]+)?[^\s#'"{][^#]*?:[ \t]+)${VALUE}([ \t]+)(#.*?)\r?$`,
);
const ITEM_LINE = new RegExp(String.raw`^([ \t]*-[ \t]+)${VALUE}([ \t]+)(#.*?)\r?$`);

function unquote(raw: string): { value: string; style: Marker['style'] } {
  if (raw.startsWith('"')) {
    try {
      return { value: JSON.parse(raw) as string, style: 'double' };
    } catch {
      return { value: raw.slice(1, -1), style: 'double' };
    }
  }
  if (raw.startsWith("'")) return { value: raw.slice(1, -1).replace(/''/g, "'"), style: 'single' };
  return { value: raw, style: 'plain' };
}

export function findTemplateMarkers(text: string): Marker[] {
  if (!text.includes(MARKER_TOKEN)) return [];
  const markers: Marker[] = [];
  let offset = 0;
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    const m = ITEM_LINE.exec(line) ?? KEY_LINE.exec(line);
    if (m) {
      const spec = parseMarkerComment(m[4]!);
      const raw = m[2]!;
      if (spec && !raw.includes('{{')) {
        const start = offset + m[1]!.length;
        markers.push({
          ...spec,
          start,
          end: start + raw.length,
          ...unquote(raw),
          line: lineNo,
          column: m[1]!.length + 1,
        });
      }
    }
    offset += line.length + 1;
  }
  return markers;
}
