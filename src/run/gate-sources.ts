/**
 * Where a run's gate facts come from, the same for the App and `tidemark plan`: first sight of a tag → digest
 * mapping (the App's first-seen store; a one-off `plan` has no history, so every candidate is seen now), and
 * keyless signature / provenance verdicts from `registry/trust` against the operator's trusted root (default:
 * Sigstore's public-good root, embedded).
 */
import { readFile } from 'node:fs/promises';
import { AppConfigError } from '../core/errors.js';
import {
  defaultTrustedRoot,
  type TrustRegistry,
  verifyProvenance,
  verifySignature,
} from '../registry/trust/index.js';
import type { RegistryClient } from '../registry/types.js';
import type { GateSources } from './collect-gates.js';

/** A client that can read manifests and blobs: what signature discovery needs. */
function trustRegistry(registry: RegistryClient): TrustRegistry | undefined {
  if (!registry.getManifest || !registry.getBlob) return undefined;
  return registry as RegistryClient & TrustRegistry;
}

const NO_TRUST_READS =
  'this registry client cannot read manifests and blobs, so signatures cannot be checked';

export function gateSources(opts: {
  readonly firstSeen: (image: string, tagAtDigest: string, at: number) => Promise<number>;
  readonly trustedRoot: object;
}): GateSources {
  return {
    firstSeen: opts.firstSeen,
    async verifySignature(registry, image, digest, rule, signal) {
      const reg = trustRegistry(registry);
      if (!reg) return { ok: false, reason: NO_TRUST_READS };
      return verifySignature(reg, image, digest, rule, {
        trustedRoot: opts.trustedRoot,
        ...(signal && { signal }),
      });
    },
    async verifyProvenance(registry, image, digest, rule, signal) {
      const reg = trustRegistry(registry);
      if (!reg) return { ok: false, reason: NO_TRUST_READS };
      return verifyProvenance(reg, image, digest, rule, {
        trustedRoot: opts.trustedRoot,
        ...(signal && { signal }),
      });
    },
  };
}

/** The trusted root at `path` (TIDEMARK_TRUSTED_ROOT), or the embedded public-good one. */
export async function loadTrustedRoot(path: string | undefined): Promise<object> {
  if (!path) return defaultTrustedRoot();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AppConfigError(
      `TIDEMARK_TRUSTED_ROOT: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); point it at a sigstore trusted_root.json, or unset it to use the public-good root`,
    );
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new AppConfigError(`TIDEMARK_TRUSTED_ROOT: ${path} is not JSON: ${(err as Error).message}`);
  }
  const r = root as { mediaType?: unknown; tlogs?: unknown; certificateAuthorities?: unknown };
  if (
    typeof r !== 'object' ||
    r === null ||
    !Array.isArray(r.tlogs) ||
    !Array.isArray(r.certificateAuthorities)
  )
    throw new AppConfigError(
      `TIDEMARK_TRUSTED_ROOT: ${path} is not a sigstore trusted_root.json (it needs tlogs and certificateAuthorities)`,
    );
  return root as object;
}
