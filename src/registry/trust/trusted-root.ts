/**
 * The sigstore public-good `trusted_root.json` (Fulcio CAs, Rekor and CT log keys), embedded so verification
 * needs no network: `@sigstore/tuf` cannot refresh offline, and a verdict must not depend on reaching a TUF CDN.
 * Copied from the `@sigstore/tuf` package's `seeds.json` (target `trusted_root.json`); refresh it when sigstore
 * rotates keys.
 */
import publicGood from './public-good-trusted-root.json' with { type: 'json' };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const root: object = deepFreeze(structuredClone(publicGood));

/**
 * The public-good trusted root. Always the same frozen object: verifiers are built once per root object, and
 * nobody can alter what everyone trusts.
 */
export function defaultTrustedRoot(): object {
  return root;
}
