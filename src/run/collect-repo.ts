/**
 * The first facts of every run, collected the same way by the App and by `tidemark plan`: the repo's
 * configuration and marked files (one walk of the checkout, each file read once) and how its registries are
 * reached (`registryAccessFor`, pure).
 */

import { access as fsAccess } from 'node:fs/promises';
import { join } from 'node:path';
import { type RegistryAccess, registryAccessFor } from '../core/config/registry-access.js';
import { type LoadedConfig, mightHoldConfig } from '../core/config/repo-config.js';
import { parseImageRef } from '../core/domain/image-ref.js';
import type { Warning } from '../core/domain/types.js';
import { isMarkerFile, MARKER_TOKEN } from '../core/markers/index.js';
import type { ImagePolicySpec } from '../core/policy/types.js';
import { type DeclaredProvider, declaredProvidersByHost } from '../registry/cloud/select.js';
import { secretConfigPath } from '../registry/docker-config.js';
import { CheckoutReader } from '../workspace/checkout.js';
import { loadRepoConfigFrom } from '../workspace/load-config.js';
import { type ScannedFile, scanMarkerFiles } from '../workspace/scan-tree.js';

export interface RepoFacts {
  readonly loaded: LoadedConfig;
  readonly access: RegistryAccess;
  /** Marker files under `update.path` (none when the repo has no usable policy). */
  readonly files: readonly ScannedFile[];
  /** Files skipped (too large, linking out of the checkout) and registry-access problems. */
  readonly warnings: readonly Warning[];
  /** Registry host → the cloud its Flux ImageRepositories declare (`spec.provider`). */
  readonly providers: Readonly<Record<string, DeclaredProvider>>;
  /**
   * Registry host → the pull secret its Flux ImageRepositories name (`spec.secretRef`), when the operator
   * declared a secret of that name (TIDEMARK_REGISTRY_SECRETS_DIR/<name>); the others are warnings.
   */
  readonly secretRefs: Readonly<Record<string, string>>;
}

/** Throws ConfigError when `update.path` leaves the checkout or does not exist. */
export async function collectRepo(
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<RepoFacts> {
  // Keep only the bytes a later read of this run looks at: the marked files and the configuration.
  const reader = await CheckoutReader.open(dir, {
    retain: (rel, bytes) => bytes.includes(MARKER_TOKEN) || mightHoldConfig(rel, bytes),
  });
  const loaded = await loadRepoConfigFrom(reader);
  const { config } = loaded;
  const { access, warnings } = registryAccessFor(config.registries, env);
  const files =
    config.policies.length === 0
      ? []
      : await scanMarkerFiles(reader, { path: config.update.path, extensions: config.update.scanExtensions });
  const outside = config.policies.length === 0 ? [] : await markersOutsidePath(reader, config.update);
  const providers = declaredProvidersByHost(
    config.policies.map((p) => ({ host: parseImageRef(p.image).registry, provider: p.provider })),
  );
  const secrets = await declaredSecrets(config.policies, env.TIDEMARK_REGISTRY_SECRETS_DIR);
  return {
    loaded,
    access,
    files,
    warnings: [...reader.warningsSoFar(), ...warnings, ...outside, ...secrets.warnings],
    providers,
    secretRefs: secrets.byHost,
  };
}

/** Files with markers that `update.path` leaves out: never updated, so say so (one warning per file). */
async function markersOutsidePath(
  reader: CheckoutReader,
  update: { readonly path: string; readonly scanExtensions: readonly string[] },
): Promise<Warning[]> {
  const under = update.path.replace(/^\.\/?/, '').replace(/\/+$/, '');
  if (under === '') return [];
  const outside = await reader.read({
    accept: (rel) =>
      !(rel === under || rel.startsWith(`${under}/`)) && isMarkerFile(rel, update.scanExtensions),
    keep: (_rel, bytes) => bytes.includes(MARKER_TOKEN),
  });
  return outside.map((f) => ({
    code: 'marker-outside-path',
    message: `${f.path}: has $imagepolicy markers but is outside update.path "${update.path}", so it is never updated; move it under that path, or widen update.path`,
    file: f.path,
  }));
}

/**
 * A repo may only *select* among the pull secrets the operator declared: a Flux `secretRef` names a folder of
 * `TIDEMARK_REGISTRY_SECRETS_DIR` (a Kubernetes dockerconfigjson Secret mounted there: `<name>/.dockerconfigjson`).
 * A name the operator did not declare is reported where it is written, and the image is read without it.
 */
async function declaredSecrets(
  policies: readonly ImagePolicySpec[],
  dir: string | undefined,
): Promise<{ byHost: Record<string, string>; warnings: Warning[] }> {
  const byHost: Record<string, string> = {};
  const warnings: Warning[] = [];
  for (const p of policies) {
    if (!p.secretRef) continue;
    const file = dir ? secretConfigPath(dir, p.secretRef) : undefined;
    if (file && (await exists(file))) {
      byHost[parseImageRef(p.image).registry] = p.secretRef;
      continue;
    }
    warnings.push({
      code: 'registry-secret-undeclared',
      message: `${p.source.file ?? 'ImageRepository'}: ImageRepository of ${p.namespace}:${p.name} names spec.secretRef "${p.secretRef}", which the operator has not declared${dir ? ` (no ${join(dir, p.secretRef, '.dockerconfigjson')})` : ' (TIDEMARK_REGISTRY_SECRETS_DIR is not set)'}; ask for it to be mounted there, or remove secretRef to use the operator's default credentials`,
      ...(p.source.file && { file: p.source.file }),
      ...(p.source.line && { line: p.source.line }),
    });
  }
  return { byHost, warnings };
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsAccess(path);
    return true;
  } catch {
    return false;
  }
}
