import { describe, expect, it } from 'vitest';
import {
  canonicalImageName,
  formatImageRef,
  ImageRefError,
  isArtifactTag,
  parseImageRef,
} from '../../../src/core/domain/image-ref.js';

describe('parseImageRef / formatImageRef', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['acme/web', 'docker.io/acme/web'],
    ['index.docker.io/acme/web', 'docker.io/acme/web'],
    ['registry-1.docker.io/library/alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['ghcr.io/Stefanprodan/PodInfo:6.5.0', 'ghcr.io/stefanprodan/podinfo:6.5.0'],
    ['127.0.0.1:5000/demo/app:1.0.0', '127.0.0.1:5000/demo/app:1.0.0'],
    ['localhost/app', 'localhost/app'],
    ['https://ghcr.io/acme/web:', 'ghcr.io/acme/web'],
    [
      'ghcr.io/acme/web:1.2.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'ghcr.io/acme/web:1.2.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    ],
  ])('%s → %s', (input, expected) => {
    expect(formatImageRef(parseImageRef(input))).toBe(expected);
  });

  it('round-trips a canonical reference', () => {
    const s = 'europe-docker.pkg.dev/proj/repo/app:v1';
    expect(formatImageRef(parseImageRef(s))).toBe(s);
  });

  it.each(['', 'ghcr.io/acme/web:bad tag', 'ghcr.io/acme/we b', 'ghcr.io/acme/web@sha256:short'])(
    'rejects %j',
    (input) => {
      expect(() => parseImageRef(input)).toThrow(ImageRefError);
    },
  );

  it('canonicalImageName drops tag and digest', () => {
    expect(canonicalImageName('alpine:3.20')).toBe('docker.io/library/alpine');
  });

  it('isArtifactTag recognises digests and cosign tags', () => {
    expect(isArtifactTag(`sha256-${'a'.repeat(64)}.sig`)).toBe(true);
    expect(isArtifactTag(`sha256:${'b'.repeat(64)}`)).toBe(true);
    expect(isArtifactTag('1.2.3')).toBe(false);
  });
});
