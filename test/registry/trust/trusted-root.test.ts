import { describe, expect, it } from 'vitest';
import { defaultTrustedRoot } from '../../../src/registry/trust/index.js';

describe('defaultTrustedRoot', () => {
  it('is the public-good root: a Fulcio CA and a Rekor log', () => {
    const root = defaultTrustedRoot() as {
      mediaType: string;
      tlogs: { baseUrl: string }[];
      certificateAuthorities: { uri: string }[];
    };
    expect(root.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.trustedroot/);
    expect(root.tlogs.map((t) => t.baseUrl)).toContain('https://rekor.sigstore.dev');
    expect(root.certificateAuthorities.some((c) => c.uri === 'https://fulcio.sigstore.dev')).toBe(true);
  });

  it('hands out copies', () => {
    const a = defaultTrustedRoot() as { tlogs: unknown[] };
    a.tlogs.length = 0;
    expect((defaultTrustedRoot() as { tlogs: unknown[] }).tlogs.length).toBeGreaterThan(0);
  });
});
