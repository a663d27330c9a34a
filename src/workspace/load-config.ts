/**
 * Read a checkout's configuration files (through the one walk, `CheckoutReader`) and hand them to the pure
 * loader.
 */
import { type LoadedConfig, loadRepoConfig, mightHoldConfig } from '../core/config/repo-config.js';
import { CheckoutReader } from './checkout.js';

const isConfigCandidate = (rel: string) => /(\.ya?ml|(^|\/)Kustomization)$/.test(rel);

/** Every YAML file (and Kustomization) that could hold configuration, with its text, in path order. */
export async function readConfigFiles(reader: CheckoutReader): Promise<{ path: string; text: string }[]> {
  // Screened on the raw bytes: most YAML files of a checkout hold no configuration and are never decoded.
  return reader.read({ accept: isConfigCandidate, keep: mightHoldConfig });
}

export async function loadRepoConfigFrom(reader: CheckoutReader): Promise<LoadedConfig> {
  return loadRepoConfig(await readConfigFiles(reader));
}

export async function loadRepoConfigFromDir(root: string): Promise<LoadedConfig> {
  return loadRepoConfigFrom(await CheckoutReader.open(root));
}
