/**
 * `tidemark init [--dir <repo>] [--tags-file <tags.json>] [--write] [--json]`: find the images in a repo that has
 * no markers yet, infer a policy for each from its registry's tags, and propose `.github/tidemark.yml` plus a
 * marker beside every value. `--write` writes them; `tidemark plan` then shows the bumps.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readRegistryEnv } from '../config/env.js';
import { NO_REPO_ACCESS } from '../core/config/registry-access.js';
import { ConfigError } from '../core/errors.js';
import { CONFIG_PATH } from '../core/onboarding/propose.js';
import { formatUnifiedDiff } from '../core/plan/unified-diff.js';
import { collectOnboarding } from '../run/collect-onboarding.js';
import { CheckoutReader } from '../workspace/checkout.js';
import { loadRepoConfigFrom } from '../workspace/load-config.js';
import { applyFileChanges } from '../workspace/scan-tree.js';
import { INIT_HELP as HELP } from './help.js';
import type { Command } from './io.js';
import { registrySource } from './registry-source.js';

export const run: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      'tags-file': { type: 'string' },
      write: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const dir = resolve(io.cwd, values.dir ?? '.');
  const envProblems: string[] = [];
  const operator = readRegistryEnv(io.env, envProblems);
  if (envProblems.length > 0) {
    io.stderr(`${envProblems.join('\n')}\n`);
    return 2;
  }
  let reader: CheckoutReader;
  try {
    reader = await CheckoutReader.open(dir);
  } catch (err) {
    io.stderr(`tidemark init: cannot read ${dir}: ${(err as Error).message}\n`);
    return 2;
  }
  const loaded = await loadRepoConfigFrom(reader);
  if (loaded.errors.length > 0) {
    io.stderr(
      `${loaded.errors.map((e) => e.text).join('\n')}\nFix these first: init extends a valid configuration.\n`,
    );
    return 2;
  }
  const registry = await registrySource(io, values['tags-file'], operator, NO_REPO_ACCESS);
  if ('error' in registry) {
    io.stderr(`${registry.error}\n`);
    return 2;
  }
  // The same collection and proposal as the App's onboarding PR.
  const { proposal, notes, found } = await collectOnboarding(reader, loaded, registry);
  for (const n of notes) io.stderr(`note: ${n.message}\n`);
  if (found === 0) {
    io.stderr(`nothing to propose: no image reference without a marker found in ${dir}\n`);
    return 0;
  }
  const changes = [
    ...(proposal.config ? [{ file: CONFIG_PATH, ...proposal.config, changes: [] }] : []),
    ...proposal.files,
  ];
  if (values.json) {
    io.stdout(
      `${JSON.stringify(
        {
          images: proposal.proposals.map((p) => ({
            file: p.image.file,
            line: p.image.line,
            path: p.image.path,
            image: p.image.repository,
            tag: p.image.tag,
            key: p.key,
            existing: p.existing,
            scheme: p.inference.scheme,
            policy: p.inference.policy,
            filterTags: p.inference.filterTags,
            digestReflectionPolicy: p.inference.digestReflectionPolicy,
            picks: p.inference.picks,
            confidence: p.inference.confidence,
            evidence: p.inference.evidence,
          })),
          notes,
          changes: changes.map((c) => ({ file: c.file })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    for (const p of proposal.proposals)
      io.stderr(
        `${p.image.file}:${p.image.line}: ${p.image.repository}:${p.image.tag ?? p.image.digest ?? ''} → ${p.inference.policy ? `${p.key}, ${p.inference.scheme}, picks ${p.inference.picks ?? '?'} (${p.inference.confidence})` : 'no policy inferred'}: ${p.inference.evidence}\n`,
      );
    io.stdout(formatUnifiedDiff(changes));
  }
  if (values.write && changes.length > 0) {
    try {
      if (proposal.config) await mkdir(dirname(resolve(dir, CONFIG_PATH)), { recursive: true });
      if (proposal.config?.oldText === '') await writeFile(resolve(dir, CONFIG_PATH), '', { flag: 'a' });
      await applyFileChanges(dir, changes);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.stderr(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
  }
  return 0;
};
