/**
 * Where a run's gate facts come from, the same for the App and `tidemark plan`: first sight of a tag → digest
 * mapping (the App's first-seen store; a one-off `plan` has no history, so every candidate is seen now), and
 * keyless signature / provenance verdicts from `registry/trust` against the operator's trusted root (default:
 * Sigstore's public-good root, embedded). The verifier (sigstore-js) is loaded on the first check: a run whose
 * policies have no signature or provenance gate never pays for it.
 */
import { readFile } from 'node:fs/promises';
import { AppConfigError } from '../core/errors.js';
import type { TrustRegistry } from '../registry/trust/index.js';
import type { RegistryClient } from '../registry/types.js';
import type { GateSources } from './collect-gates.js';

/** A client that can read manifests and blobs: what signature discovery needs. */
function trustRegistry(registry: RegistryClient): TrustRegistry | undefined {
  if (!registry.getManifest || !registry.getBlob) return undefined;
  return registry as RegistryClient & TrustRegistry;
}

const NO_TRUST_READS =
  'this registry client cannot read manifests and blobs, so signatures cannot be checked';

const trust = () => import('../registry/trust/index.js');

export function gateSources(opts: {
  readonly firstSeen: (image: string, tagAtDigest: string, at: number) => Promise<number>;
  /** The operator's trusted root (`loadTrustedRoot`); absent: Sigstore's public-good root, embedded. */
  readonly trustedRoot: object | undefined;
}): GateSources {
  const rootOf = async () => opts.trustedRoot ?? (await trust()).defaultTrustedRoot();
  return {
    firstSeen: opts.firstSeen,
    async verifySignature(registry, image, digest, rule, signal) {
      const reg = trustRegistry(registry);
      if (!reg) return { ok: false, reason: NO_TRUST_READS };
      const { verifySignature } = await trust();
      return verifySignature(reg, image, digest, rule, {
        trustedRoot: await rootOf(),
        ...(signal && { signal }),
      });
    },
    async verifyProvenance(registry, image, digest, rule, signal) {
      const reg = trustRegistry(registry);
      if (!reg) return { ok: false, reason: NO_TRUST_READS };
      const { verifyProvenance } = await trust();
      return verifyProvenance(reg, image, digest, rule, {
        trustedRoot: await rootOf(),
        ...(signal && { signal }),
      });
    },
  };
}

/**
 * The trusted root at `path` (TIDEMARK_TRUSTED_ROOT), checked now so a bad file stops start-up; `undefined`
 * without a path (the embedded public-good root, loaded when first needed).
 */
export async function loadTrustedRoot(path: string | undefined): Promise<object | undefined> {
  if (!path) return undefined;
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
