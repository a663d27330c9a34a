/**
 * The first facts of every run, collected the same way by the App and by `tidemark plan`: the repo's
 * configuration and marked files (one walk of the checkout, each file read once) and how its registries are
 * reached (`registryAccessFor`, pure).
 */
import { type RegistryAccess, registryAccessFor } from '../core/config/registry-access.js';
import type { LoadedConfig } from '../core/config/repo-config.js';
import type { Warning } from '../core/domain/types.js';
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
  return { loaded, access, files, warnings: [...reader.warningsSoFar(), ...warnings] };
}
