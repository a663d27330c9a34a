/**
 * One reconcile job for one repo, end to end: check out, read the config, plan, publish. Effects come in
 * through `RepoRunDeps`; the decisions are made by the pure core (config, policy, markers, plan).
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { RegistryAccess } from '../core/config/registry-access.js';
import type { RepoConfig } from '../core/config/repo-config.js';
import { notifiedImage } from '../core/domain/chart-ref.js';
import { eventOf, type JobReason, wantsFreshPulls } from '../core/domain/reasons.js';
import type { Permission } from '../core/domain/types.js';
import { BranchMovedError, RegistryUnavailableError } from '../core/errors.js';
import { onboardingGroup, onboardingWanted } from '../core/onboarding/onboarding-pr.js';
import { type CommandRequest, canSteer, ignoreRulesFrom, planCommands } from '../core/plan/commands.js';
import {
  type DashboardInput,
  dashboardSection,
  dashboardStep,
  isDashboard,
  parseBoxId,
  releasedRollbacks,
} from '../core/plan/dashboard.js';
import { gatesCheck } from '../core/plan/gates.js';
import { markdownCell } from '../core/plan/messages.js';
import { imageKey, imagesOf, type MarkerReadings } from '../core/plan/plan-files.js';
import {
  isTidemarkCommit,
  type PullSummary,
  planPublish,
  publishSettingsFor,
  type ReconcilePlan,
  skippedTagsFrom,
  summarizePulls,
} from '../core/plan/publish-plan.js';
import { findRollbacks, parseMarkerHistory, type Rollback } from '../core/plan/rollback.js';
import {
  checkRunStep,
  type PostedCheck,
  type PublishedGroup,
  type StatusInput,
  statusReport,
} from '../core/plan/status-report.js';
import { policyKey } from '../core/policy/types.js';
import type { GitIdentity, WorkspaceCache } from '../git/workspace.js';
import type { GitHubPort, RepoId } from '../github/port.js';
import type { Metrics } from '../observability/metrics.js';
import { inSpan } from '../observability/tracing.js';
import type { DeclaredProvider } from '../registry/cloud/select.js';
import type { RegistryClient } from '../registry/types.js';
import { type PolicyIndex, type RepoTarget, repoKeyOf } from '../state/policy-index.js';
import type { PullGenerations } from '../state/pull-generations.js';
import { CheckoutReader } from '../workspace/checkout.js';
import { applyCommandActions, applyPublishPlan, type PublishResult } from './apply.js';
import type { GateSources } from './collect-gates.js';
import { collectOnboarding } from './collect-onboarding.js';
import { collectPublishFacts } from './collect-publish.js';
import { collectRepo } from './collect-repo.js';
import { previewPulls, previewRequests } from './preview.js';
import { hasRetryableRegistryError, reconcile } from './reconcile.js';

export interface RepoRunDeps {
  /** An installation's API port and a token for git; tokens are cached by the caller. */
  auth(installationId: number): Promise<{ github: GitHubPort; token: string }>;
  readonly workspaces: WorkspaceCache;
  /** The registry client for a repo's access (the App's operator settings plus the repo's `registries:`). */
  readonly registries: {
    for(
      access: RegistryAccess,
      providers?: Readonly<Record<string, DeclaredProvider>>,
      secretRefs?: Readonly<Record<string, string>>,
    ): RegistryClient;
  };
  /** The process environment, for the variables a repo's `registries:` block names. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The App's own login (`<slug>[bot]`): only its pull requests are tidemark's. */
  botLogin(): Promise<string>;
  /** Marker readings kept across runs (files that did not change are not parsed again). */
  readonly readings?: MarkerReadings;
  readonly index: PolicyIndex;
  readonly pulls: PullCache;
  /** Repo → its dashboard issue as tidemark last wrote it (found once per process, then kept). Bounded. */
  readonly dashboards: {
    get(repo: string): { number: number; body: string } | undefined;
    set(repo: string, issue: { number: number; body: string }): unknown;
    delete(repo: string): unknown;
  };
  /** Repo → the check run tidemark last posted (commit, id, content digest): one per head commit. Bounded. */
  readonly postedChecks: {
    get(repo: string): PostedCheck | undefined;
    set(repo: string, posted: PostedCheck): unknown;
  };
  /** Facts for trust gates: first-seen times of tag → digest mappings, signature and provenance checks. */
  readonly gates?: GateSources;
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly now: () => number;
  readonly settings: {
    readonly publisher: 'api' | 'git';
    readonly author: GitIdentity;
    /** Open an onboarding PR on repos with no policy (default true). */
    readonly onboarding?: boolean;
  };
}

export interface RunSummary {
  readonly repo: string;
  readonly baseSha: string;
  readonly policies: number;
  readonly configErrors: number;
  readonly plan?: ReconcilePlan;
  readonly published?: PublishResult;
}

/**
 * Open-PR state per repo, so a run that changes nothing costs no API call. Invalidated by PR webhooks and by
 * tidemark's own changes; bounded (least recently used repos are dropped first) and expired after `ttlMs`.
 */
export class PullCache {
  private readonly entries: LRUCache<string, { at: number; generation: string; pulls: PullSummary[] }>;
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    maxRepos = 10_000,
    /** Shared with the other processes (Redis): a change one of them made is a miss here too. */
    private readonly generations?: PullGenerations,
  ) {
    this.entries = new LRUCache({ max: maxRepos });
  }
  async get(key: string, fresh: boolean, load: () => Promise<PullSummary[]>): Promise<PullSummary[]> {
    // Unknown (Redis unreachable): read fresh rather than trust a view another process may have outdated.
    const generation = this.generations ? await this.generations.current(key).catch(() => undefined) : '0';
    const hit = this.entries.get(key);
    if (
      !fresh &&
      hit &&
      generation !== undefined &&
      hit.generation === generation &&
      this.now() - hit.at < this.ttlMs
    )
      return hit.pulls;
    const pulls = await load();
    if (generation !== undefined) this.entries.set(key, { at: this.now(), generation, pulls });
    return pulls;
  }
  /** The repo's PRs changed (tidemark wrote, or a webhook said so): here and in every other process. */
  async invalidate(key: string): Promise<void> {
    this.entries.delete(key);
    // Not fatal: the others' entries expire within ttlMs, and GitHub's "already exists" is adopted.
    await this.generations?.bump(key).catch(() => undefined);
  }
  get size(): number {
    return this.entries.size;
  }
}

/** The tags tidemark's open PRs propose, by policy key: they exist (a run read them from the registry). */
function proposedTags(pulls: readonly PullSummary[]): Map<string, Set<string>> {
  const known = new Map<string, Set<string>>();
  for (const p of pulls)
    if (p.state === 'open')
      for (const pol of p.meta?.policies ?? [])
        known.set(pol.key, (known.get(pol.key) ?? new Set()).add(pol.tag));
  return known;
}

export async function runRepo(
  deps: RepoRunDeps,
  target: RepoTarget,
  reasons: readonly JobReason[],
  opts: {
    /** Aborted when the process shuts down: the run stops at its next step, before publishing anything more. */
    readonly signal?: AbortSignal;
    /** The queue's attempt (1 = first). A retry reads PR state fresh: the last attempt may have lost a race. */
    readonly attempt?: number;
  } = {},
): Promise<RunSummary> {
  const { signal } = opts;
  const fullName = `${target.owner}/${target.repo}`;
  const log = deps.log.child({ repo: fullName, reasons: [...new Set(reasons.map((r) => r.kind))] });
  const { github, token } = await deps.auth(target.installationId);
  const repoRef: RepoId = { owner: target.owner, repo: target.repo };
  const ws = await deps.workspaces.open(target, token);
  const events = reasons.flatMap((r) => eventOf(r) ?? []);
  const freshPulls = reasons.some(wantsFreshPulls) || (opts.attempt ?? 1) > 1;

  signal?.throwIfAborted();
  const baseSha = await ws.sync();
  const facts = await collectRepo(ws.dir, deps.env);
  // Pull requests that change the configuration get a preview of what it would do, on their head.
  const previews = previewRequests(reasons);
  if (previews.length > 0)
    await inSpan('preview', { repo: fullName }, () =>
      previewPulls(deps, { github, ws, repo: repoRef, baseSha, baseFacts: facts, log }, previews),
    );
  const { loaded } = facts;
  const { config } = loaded;
  await deps.index.setRepo(target, imagesOf(config).map(notifiedImage));
  const configErrors = loaded.errors.map((e) => e.text);
  for (const m of configErrors) log.warn({ sha: baseSha }, m);
  const policies = config.policies.map((p) => ({ key: policyKey(p), image: p.image }));
  const strategy = config.update.strategy;
  // What the check run shows when the run stops before planning.
  const unplanned: StatusInput = { policies, configErrors, warnings: facts.warnings, strategy };
  if (loaded.publishingInvalid) {
    // How to publish is unreadable (a typo in update: or an automation): report it, publish nothing.
    await reportStatus(deps, github, repoRef, baseSha, log, unplanned);
    log.warn({ errors: loaded.errors.length }, 'publishing settings have errors; nothing is published');
    return { repo: fullName, baseSha, policies: config.policies.length, configErrors: loaded.errors.length };
  }
  if (config.policies.length === 0) {
    // A repo with nothing for tidemark says so once per head commit where a person looks (its checks).
    await reportStatus(deps, github, repoRef, baseSha, log, unplanned);
    log.info({ errors: loaded.errors.length }, 'no usable image policies');
    // No policy and no configuration error: propose them (the onboarding PR), unless a person said "not now".
    if (configErrors.length === 0 && strategy === 'pull-request' && deps.settings.onboarding !== false) {
      await inSpan('onboard', { repo: fullName }, () =>
        onboard(deps, { github, ws, log, target, repoRef, baseSha, facts, freshPulls, signal }),
      );
    }
    return { repo: fullName, baseSha, policies: 0, configErrors: loaded.errors.length };
  }
  let pulls =
    config.update.strategy === 'pull-request'
      ? await deps.pulls.get(repoKeyOf(target), freshPulls, async () =>
          summarizePulls(await github.listPulls(repoRef), await deps.botLogin()),
        )
      : [];
  // `/tidemark …` commands: collect who may steer, plan the answers (pure), apply them, then plan the run on
  // the PRs as the commands left them (an ignored version is skipped and a held PR left alone in this run).
  const requests = commandRequests(reasons);
  let rebase: readonly string[] = [];
  if (requests.length > 0 && strategy === 'pull-request') {
    const permissions: Record<string, Permission> = {};
    for (const user of new Set(requests.map((r) => r.user)))
      permissions[user] = await github.permission(repoRef, user);
    const commands = planCommands(requests, pulls, permissions, new Date(deps.now()).toISOString());
    await applyCommandActions({ github, workspace: ws, log }, repoRef, commands.actions);
    if (commands.actions.some((a) => a.kind !== 'react')) await deps.pulls.invalidate(repoKeyOf(target));
    pulls = [...commands.pulls];
    rebase = commands.rebase;
  }
  // Rollbacks: a person set a marked value back to an older tag; hold it there unless released on the dashboard.
  const rollbacks = await inSpan('rollbacks', { repo: fullName }, () =>
    collectRollbacks(deps, { github, ws, repoRef, baseSha, config, reasons, log, pulls }),
  );
  const plan = await inSpan('reconcile', { repo: fullName, policies: config.policies.length }, () =>
    reconcile(
      {
        registry: deps.registries.for(facts.access, facts.providers, facts.secretRefs),
        log,
        now: deps.now,
        ...(deps.gates && { gates: deps.gates }),
        ...(deps.readings && { readings: deps.readings }),
      },
      {
        config,
        files: facts.files,
        events,
        freshTags: reasons.some(
          (r) =>
            r.kind === 'periodic' ||
            r.kind === 'manual' ||
            (r.kind === 'dashboard-edit' && r.detail.boxes.includes('retry')),
        ),
        skippedTags: skippedTagsFrom(pulls),
        knownTags: proposedTags(pulls),
        ignoreRules: ignoreRulesFrom(pulls),
        rollbacks: rollbacks.filter((r) => !r.releasedBy),
        withProvenance: config.update.strategy === 'pull-request',
        ...(signal && { signal }),
      },
    ),
  );
  const warnings = [...facts.warnings, ...plan.warnings];
  for (const w of warnings) log.warn({ code: w.code, file: w.file, line: w.line }, w.message);
  let published: PublishResult;
  let actionsApplied = 0;
  try {
    published = await inSpan('publish', { repo: fullName, mode: strategy }, async () => {
      // collect → plan (pure) → apply
      signal?.throwIfAborted();
      const publishFacts = await collectPublishFacts(ws, plan, strategy, baseSha, pulls);
      const publishing = planPublish(plan, publishSettingsFor(config.update, target.defaultBranch), {
        ...publishFacts,
        rebase,
        now: deps.now(),
      });
      signal?.throwIfAborted();
      actionsApplied = publishing.actions.length;
      return applyPublishPlan({ github, workspace: ws, log }, repoRef, publishing, {
        ...(config.update.commitMessage && { commitTemplate: config.update.commitMessage }),
        publisher: deps.settings.publisher,
        author: config.update.author ?? deps.settings.author,
      });
    });
  } catch (err) {
    // Someone moved a branch under us: the queue runs the repo again (one retry policy, the queue's) on fresh
    // facts, and that run reads PR state fresh.
    if (err instanceof BranchMovedError) {
      await deps.pulls.invalidate(repoKeyOf(target));
      log.info({ err }, 'branch moved during publish; the run will be retried on fresh facts');
    }
    throw err;
  }
  // Anything tidemark wrote makes its cached view of the PRs stale; a run that wrote nothing keeps it.
  if (actionsApplied > 0) {
    await deps.pulls.invalidate(repoKeyOf(target));
  }
  recordMetrics(deps, config.update.strategy, plan, published, reasons);
  await reportGates(github, repoRef, plan, published, log);
  await reportStatus(deps, github, repoRef, baseSha, log, {
    policies,
    configErrors,
    warnings,
    strategy,
    plan,
    published: published.groups as readonly PublishedGroup[],
  });
  if (strategy === 'pull-request' && config.dashboard !== false) {
    await updateDashboard(deps, github, repoRef, log, reasons, {
      policies,
      configErrors,
      warnings,
      strategy,
      plan,
      published: published.groups as readonly PublishedGroup[],
      pulls,
      rollbacks,
    });
  }
  if (hasRetryableRegistryError(plan)) {
    const images = plan.registryErrors.map((e) => e.image).join(', ');
    throw new RegistryUnavailableError(`could not read tags of ${images}; will retry`, {
      cause: plan.registryErrors[0]?.error,
    });
  }
  return {
    repo: fullName,
    baseSha,
    policies: config.policies.length,
    configErrors: loaded.errors.length,
    plan,
    published,
  };
}

function recordMetrics(
  deps: RepoRunDeps,
  mode: string,
  plan: ReconcilePlan,
  published: PublishResult,
  reasons: readonly JobReason[],
): void {
  if (!deps.metrics) return;
  const changed = new Set(
    published.groups.filter((g) => g.action !== 'unchanged' && g.action !== 'frozen').map((g) => g.branch),
  );
  const bumped =
    mode === 'push'
      ? plan.updates
      : plan.groups.filter((g) => changed.has(g.branch)).flatMap((g) => g.updates);
  for (const u of bumped) deps.metrics.bumps.inc({ policy: u.key, mode });
  if (bumped.length > 0) {
    for (const r of reasons) {
      const event = eventOf(r);
      if (event && r.receivedAt && bumped.some((u) => imageKey(u.image) === event.image)) {
        deps.metrics.pushToPr.observe((deps.now() - r.receivedAt) / 1000);
      }
    }
  }
}

/**
 * The `tidemark` check run on the head the run read: created once per commit, updated in place when what it
 * shows changed (a PR opened, a newer tag), nothing otherwise. A failure to post is logged, never retried:
 * the next run posts again.
 */
async function reportStatus(
  deps: RepoRunDeps,
  github: GitHubPort,
  repo: RepoId,
  sha: string,
  log: Logger,
  input: StatusInput,
): Promise<void> {
  const key = `${repo.owner}/${repo.repo}`;
  const report = statusReport(input);
  const step = checkRunStep(sha, report, deps.postedChecks.get(key));
  try {
    if (step.kind === 'create') {
      const id = await github.createCheckRun(repo, { headSha: sha, ...report });
      deps.postedChecks.set(key, { sha, id, fingerprint: step.fingerprint });
    } else if (step.kind === 'update') {
      await github.updateCheckRun(repo, step.id, report);
      deps.postedChecks.set(key, { sha, id: step.id, fingerprint: step.fingerprint });
    }
  } catch (err) {
    log.warn({ err }, 'could not post the tidemark check run');
  }
}

/**
 * Rollbacks in force, from the default branch's history of marked lines (`core/plan/rollback.ts` decides),
 * each with who released it on the dashboard, if anyone did: released holds are recorded in the dashboard's
 * own part, and a box ticked now counts when its author may write to the repo.
 */
async function collectRollbacks(
  deps: RepoRunDeps,
  run: {
    github: GitHubPort;
    ws: Awaited<ReturnType<WorkspaceCache['open']>>;
    repoRef: RepoId;
    baseSha: string;
    config: RepoConfig;
    reasons: readonly JobReason[];
    log: Logger;
    /** tidemark's PRs: a squash merge of one (`… (#12)`) is tidemark's change. */
    pulls: readonly PullSummary[];
  },
): Promise<(Rollback & { releasedBy?: string })[]> {
  const { github, ws, repoRef, config } = run;
  if (config.policies.length === 0) return [];
  const bot = await deps.botLogin();
  const ownEmail = (config.update.author ?? deps.settings.author).email;
  const merged = new Set(run.pulls.filter((p) => p.merged).map((p) => p.number));
  const history = parseMarkerHistory(await ws.markerHistory(run.baseSha, config.update.path));
  const found = findRollbacks(
    history,
    (c) => {
      if (isTidemarkCommit(c.message) || c.authorName === bot || c.authorEmail === ownEmail) return true;
      const squashed = /\(#([1-9][0-9]{0,9})\)\s*$/m.exec(c.message.split('\n')[0] ?? '');
      return !!squashed && merged.has(Number(squashed[1]));
    },
    config.policies,
  );
  if (found.length === 0) return [];
  const known = await knownDashboard(deps, github, repoRef, false);
  const released = releasedRollbacks(known?.body);
  for (const r of run.reasons) {
    if (r.kind !== 'dashboard-edit') continue;
    for (const id of r.detail.boxes) {
      const a = parseBoxId(id);
      if (a?.kind !== 'release' || released.has(a.sha)) continue;
      const permission = await github.permission(repoRef, r.detail.user);
      if (canSteer(permission)) released.set(a.sha, r.detail.user);
      else run.log.info({ user: r.detail.user, permission }, 'rollback release ignored: no write access');
    }
  }
  return found.map((r) => {
    const by = released.get(r.sha.slice(0, 12));
    return by ? { ...r, releasedBy: by } : r;
  });
}

/** A `tidemark/gates` check on each new PR head whose bumps passed trust gates (their evidence). */
async function reportGates(
  github: GitHubPort,
  repo: RepoId,
  plan: ReconcilePlan,
  published: PublishResult,
  log: Logger,
): Promise<void> {
  for (const g of published.groups) {
    const commit = 'commit' in g ? g.commit : undefined;
    if (!commit || g.action === 'pushed') continue;
    const group = plan.groups.find((x) => x.branch === g.branch);
    const check = group && gatesCheck(group.updates, markdownCell);
    if (!check) continue;
    try {
      await github.createCheckRun(repo, { headSha: commit, ...check });
    } catch (err) {
      log.warn({ err, branch: g.branch }, 'could not post the tidemark/gates check run');
    }
  }
}

/** The `/tidemark …` comments (oldest first), then the boxes ticked on the dashboard, among a job's reasons. */
function commandRequests(reasons: readonly JobReason[]): CommandRequest[] {
  const comments = reasons
    .flatMap((r) =>
      r.kind === 'pr-command'
        ? [{ pr: r.detail.number, commentId: r.detail.commentId, user: r.detail.user, text: r.detail.text }]
        : [],
    )
    .sort((a, b) => a.commentId - b.commentId);
  const ticks = reasons.flatMap((r) =>
    r.kind === 'dashboard-edit'
      ? r.detail.boxes.flatMap((id) => {
          const a = parseBoxId(id);
          return a && (a.kind === 'unhold' || a.kind === 'unignore')
            ? [{ pr: a.pr, user: r.detail.user, text: a.kind }]
            : [];
        })
      : [],
  );
  return [...comments, ...ticks];
}

/**
 * The dashboard issue as tidemark knows it: from the per-process map, else (or when someone edited it, `fresh`)
 * found among the App's open issues — one listing — and remembered.
 */
async function knownDashboard(
  deps: RepoRunDeps,
  github: GitHubPort,
  repo: RepoId,
  fresh: boolean,
): Promise<{ number: number; body: string } | undefined> {
  const key = `${repo.owner}/${repo.repo}`;
  const cached = deps.dashboards.get(key);
  if (cached && !fresh) return cached;
  const found = (await github.listOpenIssues(repo, await deps.botLogin())).find((i) =>
    isDashboard(i.title, i.body),
  );
  const known = found && { number: found.number, body: found.body ?? '' };
  if (known) deps.dashboards.set(key, known);
  else deps.dashboards.delete(key);
  return known;
}

/**
 * The dashboard issue: found once per process (one listing), then created or updated only when its body would
 * change. An edit by someone else (a `dashboard-edit` reason) makes the run read it afresh, so their text
 * outside tidemark's part is kept. A failure is logged, never retried: the next run tries again.
 */
async function updateDashboard(
  deps: RepoRunDeps,
  github: GitHubPort,
  repo: RepoId,
  log: Logger,
  reasons: readonly JobReason[],
  input: DashboardInput,
): Promise<void> {
  const key = `${repo.owner}/${repo.repo}`;
  try {
    const known = await knownDashboard(
      deps,
      github,
      repo,
      reasons.some((r) => r.kind === 'dashboard-edit'),
    );
    const step = dashboardStep(dashboardSection(input), known);
    if (step.kind === 'create') {
      const number = await github.createIssue(repo, { title: step.title, body: step.body });
      deps.dashboards.set(key, { number, body: step.body });
    } else if (step.kind === 'update') {
      await github.updateIssue(repo, step.number, step.body);
      deps.dashboards.set(key, { number: step.number, body: step.body });
    }
  } catch (err) {
    log.warn({ err }, 'could not update the dashboard issue');
  }
}

/**
 * The onboarding PR: what `tidemark init --write` would write, published as a PR through the same plan as any
 * bump (collect → plan → apply). Nothing when a person closed one unmerged, or when nothing is found.
 */
async function onboard(
  deps: RepoRunDeps,
  run: {
    github: GitHubPort;
    ws: Awaited<ReturnType<WorkspaceCache['open']>>;
    log: Logger;
    target: RepoTarget;
    repoRef: RepoId;
    baseSha: string;
    facts: Awaited<ReturnType<typeof collectRepo>>;
    freshPulls: boolean;
    signal: AbortSignal | undefined;
  },
): Promise<void> {
  const { github, ws, log, target, repoRef, baseSha, facts } = run;
  const pulls = await deps.pulls.get(repoKeyOf(target), run.freshPulls, async () =>
    summarizePulls(await github.listPulls(repoRef), await deps.botLogin()),
  );
  if (!onboardingWanted(pulls)) return;
  const reader = await CheckoutReader.open(ws.dir);
  const { proposal } = await collectOnboarding(
    reader,
    facts.loaded,
    deps.registries.for(facts.access, facts.providers, facts.secretRefs),
  );
  const group = onboardingGroup(proposal);
  if (!group) return;
  run.signal?.throwIfAborted();
  const plan: ReconcilePlan = {
    perPolicy: {},
    updates: [],
    groups: [group],
    changes: group.files,
    warnings: [],
    registryErrors: [],
  };
  const publishFacts = await collectPublishFacts(ws, plan, 'pull-request', baseSha, pulls);
  const publishing = planPublish(
    plan,
    publishSettingsFor(facts.loaded.config.update, target.defaultBranch),
    publishFacts,
  );
  run.signal?.throwIfAborted();
  await applyPublishPlan({ github, workspace: ws, log }, repoRef, publishing, {
    publisher: deps.settings.publisher,
    author: deps.settings.author,
  });
  if (publishing.actions.length > 0) {
    await deps.pulls.invalidate(repoKeyOf(target));
    log.info({ images: proposal.proposals.length }, 'onboarding pull request proposed');
  }
}
