/** Where tidemark's own files are (package.json, app.yml): beside `src/` from source, above `dist/` when built. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'tidemark') return dir;
    } catch {
      // not here; look one level up
    }
    dir = dirname(dir);
  }
  return undefined;
}

export function version(): string {
  const root = packageRoot();
  if (!root) return 'unknown';
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
