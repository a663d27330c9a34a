import { describe, expect, it } from 'vitest';
import { eventOf, parseReason, wantsFreshPulls } from '../../../src/core/domain/reasons.js';

const event = { image: 'ghcr.io/acme/web', tag: '1.2.0', digest: null, provider: 'github' };

describe('job reasons: read back from the queue as a typed union', () => {
  it.each([
    [{ kind: 'registry-push', key: 'ghcr.io/acme/web:1.2.0', detail: { event }, receivedAt: 5 }],
    [{ kind: 'github-push', detail: { ref: 'refs/heads/main', after: 'abc', delivery: 'd1' } }],
    [{ kind: 'pull-request-closed', detail: { number: 7, merged: false, delivery: 'd2' } }],
    [{ kind: 'installation' }],
    [{ kind: 'periodic', trace: { traceparent: '00-a-b-01' } }],
    [{ kind: 'manual' }],
  ])('%o round-trips through JSON', (reason) => {
    expect(parseReason(JSON.parse(JSON.stringify(reason)))).toEqual(reason);
  });

  it.each([
    ['an unknown kind', { kind: 'surprise' }],
    ['not an object', 'registry-push'],
    ['a push without its event', { kind: 'registry-push', key: 'x:1' }],
    [
      'an event from an unknown provider',
      { kind: 'registry-push', key: 'x:1', detail: { event: { ...event, provider: 'x' } } },
    ],
    ['a PR without its number', { kind: 'pull-request-closed', detail: { merged: true } }],
    ['a GitHub push without its ref', { kind: 'github-push', detail: { after: 'abc' } }],
  ])('%s is refused', (_name, raw) => {
    expect(parseReason(raw)).toBeUndefined();
  });

  it('events and fresh PR reads follow from the kind', () => {
    const push = parseReason({ kind: 'registry-push', key: 'k', detail: { event } })!;
    expect(eventOf(push)).toEqual(event);
    expect(eventOf({ kind: 'periodic' })).toBeUndefined();
    expect(wantsFreshPulls({ kind: 'manual' })).toBe(true);
    expect(
      wantsFreshPulls({ kind: 'pull-request-closed', detail: { number: 1, merged: true, delivery: '' } }),
    ).toBe(true);
    expect(wantsFreshPulls(push)).toBe(false);
  });
});
