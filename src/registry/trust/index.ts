/**
 * Does an image digest carry a keyless sigstore signature by a given identity, and an SLSA v1 provenance
 * attestation with given fields? Verified offline against a `trusted_root.json`; the answer is data.
 */
export { defaultTrustedRoot } from './trusted-root.js';
