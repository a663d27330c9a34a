/**
 * The sigstore public-good `trusted_root.json` (Fulcio CAs, Rekor and CT log keys), embedded so verification
 * needs no network: `@sigstore/tuf` cannot refresh offline, and a verdict must not depend on reaching a TUF CDN.
 * Copied from the `@sigstore/tuf` package's `seeds.json` (target `trusted_root.json`); refresh it when sigstore
 * rotates keys.
 */
import publicGood from './public-good-trusted-root.json' with { type: 'json' };

/** A fresh copy of the public-good trusted root, so a caller cannot alter the embedded one. */
export function defaultTrustedRoot(): object {
  return structuredClone(publicGood) as object;
}
