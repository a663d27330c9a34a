/**
 * The first facts of every run, collected the same way by the App and by `tidemark plan`: the repo's
 * configuration and marked files (one walk of the checkout, each file read once) and how its registries are
 * reached (`registryAccessFor`, pure).
 */

import { type RegistryAccess, registryAccessFor } from '../core/config/registry-access.js';
import type { LoadedConfig } from '../core/config/repo-config.js';
import { parseImageRef } from '../core/domain/image-ref.js';
import type { Warning } from '../core/domain/types.js';
import { isMarkerFile, MARKER_TOKEN } from '../core/markers/index.js';
import { type DeclaredProvider, declaredProvidersByHost } from '../registry/cloud/select.js';
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
}

/** Throws ConfigError when `update.path` leaves the checkout or does not exist. */
export async function collectRepo(
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<RepoFacts> {
  const reader = await CheckoutReader.open(dir);
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
  return {
    loaded,
    access,
    files,
    warnings: [...reader.warningsSoFar(), ...warnings, ...outside],
    providers,
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
