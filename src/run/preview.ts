/**
 * Preview a pull request's configuration: collect (fetch its head, the files it changes, the config on both
 * sides, tags), plan both sides with the same pure plan as a run, and post the `tidemark/preview` check run on
 * its head (`core/plan/preview.ts` decides its content). Nothing is written to the repo.
 */
import type { Logger } from 'pino';
import type { RegistryAccess } from '../core/config/registry-access.js';
import type { JobReason } from '../core/domain/reasons.js';
import { type PreviewSide, previewReport, touchesConfig } from '../core/plan/preview.js';
import type { RepoWorkspace } from '../git/workspace.js';
import type { GitHubPort, RepoId } from '../github/port.js';
import type { DeclaredProvider } from '../registry/cloud/select.js';
import type { RegistryClient } from '../registry/types.js';
import { collectRepo, type RepoFacts } from './collect-repo.js';
import { reconcile } from './reconcile.js';

export interface PreviewDeps {
  readonly registries: {
    for(
      access: RegistryAccess,
      providers?: Readonly<Record<string, DeclaredProvider>>,
      secretRefs?: Readonly<Record<string, string>>,
    ): RegistryClient;
  };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The PRs to preview among a job's reasons: one per PR, its newest head. */
export function previewRequests(reasons: readonly JobReason[]): { number: number; headSha: string }[] {
  const byPr = new Map<number, string>();
  for (const r of reasons) if (r.kind === 'pr-preview') byPr.set(r.detail.number, r.detail.headSha);
  return [...byPr].map(([number, headSha]) => ({ number, headSha }));
}

async function side(deps: PreviewDeps, facts: RepoFacts): Promise<PreviewSide> {
  const { config, errors } = facts.loaded;
  const errs = errors.map((e) => ({
    file: e.file,
    ...(e.line !== undefined && { line: e.line }),
    text: e.text,
  }));
  if (config.policies.length === 0) return { perPolicy: {}, errors: errs, changes: [] };
  const plan = await reconcile(
    { registry: deps.registries.for(facts.access, facts.providers, facts.secretRefs) },
    { config, files: facts.files },
  );
  return { perPolicy: plan.perPolicy, errors: errs, changes: plan.changes };
}

export async function previewPulls(
  deps: PreviewDeps,
  run: {
    readonly github: GitHubPort;
    readonly ws: RepoWorkspace;
    readonly repo: RepoId;
    readonly baseSha: string;
    readonly baseFacts: RepoFacts;
    readonly log: Logger;
  },
  requests: readonly { number: number; headSha: string }[],
): Promise<void> {
  for (const { number } of requests) {
    try {
      const head = await run.ws.fetchPullHead(number);
      const changed = await run.ws.changedFiles(run.baseSha, head);
      if (!touchesConfig(changed)) continue;
      const checkout = await run.ws.checkoutAt(head);
      try {
        const headFacts = await collectRepo(checkout.dir, deps.env);
        const report = previewReport(await side(deps, run.baseFacts), await side(deps, headFacts), changed);
        await run.github.createCheckRun(run.repo, { name: 'tidemark/preview', headSha: head, ...report });
        run.log.info({ pr: number, conclusion: report.conclusion }, 'preview posted');
      } finally {
        await checkout.remove();
      }
    } catch (err) {
      // A preview is advice: a failure is logged, never retried, and never stops the run.
      run.log.warn({ err, pr: number }, 'could not preview the pull request');
    }
  }
}
