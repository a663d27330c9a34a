/**
 * Read a checkout's configuration files from disk and hand them to the pure loader.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type LoadedConfig, loadRepoConfig, mightHoldConfig } from '../core/config/repo-config.js';

const SKIP_DIRS = new Set(['.git', 'node_modules']);
const MAX_BYTES = 5 * 1024 * 1024;

/** Every YAML file (and Kustomization) under `root` that could hold configuration, with its text. */
export async function readConfigFiles(root: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(abs);
        continue;
      }
      if (!e.isFile() || !/(\.ya?ml|^Kustomization)$/.test(e.name)) continue;
      if ((await stat(abs)).size > MAX_BYTES) continue;
      const path = relative(root, abs).split(sep).join('/');
      const text = await readFile(abs, 'utf8');
      if (mightHoldConfig(path, text)) out.push({ path, text });
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export async function loadRepoConfigFromDir(root: string): Promise<LoadedConfig> {
  return loadRepoConfig(await readConfigFiles(root));
}

export async function loadRepoConfigFromWorkspace(ws: { readonly dir: string }): Promise<LoadedConfig> {
  return loadRepoConfigFromDir(ws.dir);
}
