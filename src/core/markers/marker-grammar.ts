/**
 * The `$imagepolicy` marker grammar, exactly as Flux reads it (kyaml `fieldmeta.Read` + `processShortHand`):
 * strip every leading `#`, the rest must be a JSON object whose values are all strings, the key is exactly
 * `$imagepolicy`, and its value is `ns:name` or `ns:name:tag|name|digest`.
 */

export const MARKER_TOKEN = '"$imagepolicy"';

import type { MarkerField } from '../domain/types.js';

export type { MarkerField };

export interface MarkerSpec {
  /** The marker value as written, e.g. `flux-system:podinfo:tag` (Flux calls it the setter). */
  readonly setter: string;
  /** `namespace:name`, the policy key. */
  readonly key: string;
  readonly field: MarkerField;
}

/** Parse a comment's text (with or without its leading `#`s). Undefined when it is not a marker. */
export function parseMarkerComment(comment: string): MarkerSpec | undefined {
  const body = comment.replace(/^#+/, '');
  if (!body.includes('$imagepolicy')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.some(([, v]) => typeof v !== 'string')) return undefined;
  const setter = (parsed as Record<string, string>).$imagepolicy;
  if (setter === undefined) return undefined;
  const parts = setter.split(':');
  if (parts.length === 2 && parts[0] && parts[1]) return { setter, key: setter, field: 'ref' };
  if (parts.length === 3 && parts[0] && parts[1] && ['tag', 'name', 'digest'].includes(parts[2]!)) {
    return { setter, key: `${parts[0]}:${parts[1]}`, field: parts[2] as MarkerField };
  }
  return undefined;
}
