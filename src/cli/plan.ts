import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readRegistryEnv } from '../config/env.js';
import type { RepoConfig } from '../core/config/repo-config.js';
import type { Warning } from '../core/domain/types.js';
import { ConfigError } from '../core/errors.js';
import { commitMessage } from '../core/plan/messages.js';
import {
  describeAction,
  planPublish,
  publishSettingsFor,
  type ReconcilePlan,
} from '../core/plan/publish-plan.js';
import { formatUnifiedDiff } from '../core/plan/unified-diff.js';
import type { UpdateGroup } from '../core/plan/update.js';
import { collectRepo, type RepoFacts } from '../run/collect-repo.js';
import { gateSources, loadTrustedRoot } from '../run/gate-sources.js';
import { reconcile } from '../run/reconcile.js';
import { applyFileChanges } from '../workspace/scan-tree.js';
import { PLAN_HELP as HELP } from './help.js';
import { type Command, UsageError } from './io.js';
import { registrySource } from './registry-source.js';

/** The App's publishing plan for this run, offline: no open PRs, no tidemark branches, base `HEAD`. */
function publishingOf(plan: ReconcilePlan, config: RepoConfig, base: string) {
  const p = planPublish(plan, publishSettingsFor(config.update, base), {
    baseSha: 'HEAD',
    pulls: [],
    branches: {},
    mergedHeads: {},
  });
  const headline = (g: UpdateGroup) => commitMessage(g, config.update.commitMessage).headline;
  return {
    strategy: config.update.strategy,
    groups: p.groups.map((g) => ({ branch: g.branch, action: g.action })),
    actions: p.actions.map((a) => describeAction(a, headline)),
  };
}

export const run: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      'tags-file': { type: 'string' },
      write: { type: 'boolean' },
      json: { type: 'boolean' },
      base: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
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
  // The same collection as the App's run: configuration, registry access, marked files (one walk).
  let facts: RepoFacts;
  try {
    facts = await collectRepo(dir, io.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return 2;
    }
    throw new UsageError(`cannot read ${dir}: ${(err as Error).message}`);
  }
  const { loaded } = facts;
  for (const w of loaded.warnings) io.stderr(`warning: ${located(w)}\n`);
  if (loaded.errors.length > 0) {
    io.stderr(`${loaded.errors.map((e) => e.text).join('\n')}\n`);
    return 2;
  }
  const { config } = loaded;
  if (config.policies.length === 0) {
    io.stderr(
      `no image policies found in ${dir} (Flux ImagePolicy manifests or .github/tidemark.yml); \`tidemark init --dir ${values.dir ?? '.'}\` proposes them for the images it finds\n`,
    );
    return 2;
  }
  const registry = await registrySource(
    io,
    values['tags-file'],
    operator,
    facts.access,
    facts.providers,
    facts.secretRefs,
  );
  if ('error' in registry) {
    io.stderr(`${registry.error}\n`);
    return 2;
  }
  const scan = { files: facts.files, warnings: facts.warnings };
  // A one-off plan has no first-seen history: every candidate is seen now, so a minAge gate always waits here
  // (the App keeps first-seen times across runs). Signatures and provenance are checked as the App does.
  let trustedRoot: object | undefined;
  try {
    trustedRoot = await loadTrustedRoot(io.env.TIDEMARK_TRUSTED_ROOT);
  } catch (err) {
    io.stderr(`tidemark plan: ${(err as Error).message}\n`);
    return 2;
  }
  const gates = gateSources({ firstSeen: async (_image, _tag, at) => at, trustedRoot });
  const plan = await reconcile({ registry, gates }, { config, files: scan.files });
  if (values.write) await applyFileChanges(dir, plan.changes);
  if (values.json) {
    io.stdout(
      `${JSON.stringify(
        {
          changes: plan.changes.map((c) => ({ file: c.file, changes: c.changes })),
          perPolicy: plan.perPolicy,
          warnings: [...scan.warnings, ...plan.warnings],
          registryErrors: plan.registryErrors.map((e) => ({ image: e.image, error: e.error.message })),
          publishing: publishingOf(plan, config, values.base ?? 'main'),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    for (const w of [...scan.warnings, ...plan.warnings]) io.stderr(`warning: ${located(w)}\n`);
    if (!values.write) io.stdout(formatUnifiedDiff(plan.changes));
    for (const [key, o] of Object.entries(plan.perPolicy).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const line =
        o.status === 'selected'
          ? o.markers === 0
            ? `${key} ${o.tag} (no marker uses this policy: nothing to update)`
            : `${key} ${o.previous && o.previous !== o.tag ? `${o.previous} → ${o.tag}` : `${o.tag} (up to date)`}${(o.waiting ?? []).map((w) => `; ${w.tag} ${w.status === 'block' ? 'blocked' : 'waits'}: ${w.reason}`).join('')}`
          : o.status === 'skipped'
            ? `${key} ${o.tag} skipped: ${o.reason}`
            : o.status === 'waiting'
              ? `${key} ${o.tag} waiting: ${o.reason}`
              : `${key} ${o.status}: ${o.reason}`;
      io.stderr(`${line}\n`);
    }
  }
  if (plan.registryErrors.length > 0) {
    for (const e of plan.registryErrors) io.stderr(`registry error: ${e.image}: ${e.error.message}\n`);
    return 3;
  }
  return 0;
};

/** A warning with the place it is about (`file:line: …`), unless its text names the file already. */
function located(w: Warning): string {
  if (!w.file || w.message.includes(w.file)) return w.message;
  return `${w.file}${w.line ? `:${w.line}` : ''}: ${w.message}`;
}
