/**
 * Read a checkout's configuration files (through the one walk, `CheckoutReader`) and hand them to the pure
 * loader.
 */
import { type LoadedConfig, loadRepoConfig, mightHoldConfig } from '../core/config/repo-config.js';
import { CheckoutReader } from './checkout.js';

/** Every YAML file (and Kustomization) that could hold configuration, with its text, in path order. */
export async function readConfigFiles(reader: CheckoutReader): Promise<{ path: string; text: string }[]> {
  const files = await reader.read({ accept: (rel) => /(\.ya?ml|(^|\/)Kustomization)$/.test(rel) });
  return files.filter((f) => mightHoldConfig(f.path, f.text));
}

export async function loadRepoConfigFrom(reader: CheckoutReader): Promise<LoadedConfig> {
  return loadRepoConfig(await readConfigFiles(reader));
}

export async function loadRepoConfigFromDir(root: string): Promise<LoadedConfig> {
  return loadRepoConfigFrom(await CheckoutReader.open(root));
}
