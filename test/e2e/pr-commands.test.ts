/**
 * `/tidemark …` commands in PR comments, end to end: GitHub sends `issue_comment.created`, tidemark checks the
 * commenter's permission through the API, answers with a reaction (and a reply when something changed), and
 * keeps the state in the PR's hidden metadata. Each test has its own repo and image; absence is proven only
 * after the job for the input has finished.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrMetadata } from '../../src/core/plan/messages.js';
import { repoKeyOf } from '../../src/state/policy-index.js';
import type { GitHubDouble } from '../support/github-double/index.js';
import { pushImage } from '../support/images.js';
import type { Registry } from '../support/registry.js';
import { type Env, hasReason, startEnv } from './harness.js';

const deployment = (host: string, image: string, tag: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${host}/${image}:${tag} # {"$imagepolicy": "flux-system:web"}\n`;

describe('PR commands', () => {
  let env: Env;
  let gh: GitHubDouble;
  let reg: Registry;
  let installationId: number;

  beforeAll(async () => {
    env = await startEnv(async (double) => {
      installationId = double.addInstallation('acme');
    });
    ({ gh, reg } = env);
  });
  afterEach(() => gh.assertNoValidationErrors());
  afterAll(async () => {
    await env?.stop();
  });

  async function scenario(name: string, extraConfig = '') {
    const image = `acme/${name}`;
    await env.seedRepo(
      {
        installationId,
        owner: 'acme',
        name,
        files: {
          'apps/web/deployment.yaml': deployment(reg.host, image, '1.0.0'),
          '.github/tidemark.yml': `${extraConfig}policies:\n  - name: web\n    image: ${reg.host}/${image}\n    policy: { semver: { range: "^1.0.0" } }\n`,
        },
      },
      image,
      '1.0.0',
    );
    gh.setPermission('acme', name, 'alice', 'write');
    gh.setPermission('acme', name, 'rita', 'read');
    const key = repoKeyOf({ installationId, owner: 'acme', repo: name });
    const file = (ref: string) => gh.readFile('acme', name, ref, 'apps/web/deployment.yaml');
    async function push(tag: string) {
      const since = env.jobs.length;
      await pushImage(reg, image, tag, { seed: `${name}-${tag}` });
      const job = await env.waitForJob(
        `the run for ${image}:${tag}`,
        (j) => j.repo === key && hasReason('registry-push', `${reg.host}/${image}:${tag}`)(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
    }
    /** Comments on PR `number` as `user` and waits until the run that read the command has finished. */
    async function say(number: number, user: string, body: string) {
      const since = env.jobs.length;
      const id = await gh.commentAsUser('acme', name, number, user, body);
      const job = await env.waitForJob(
        `the run for comment ${id}`,
        (j) => j.repo === key && hasReason('pr-command')(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
      await env.idle();
      return { id, reactions: gh.reactions('acme', name).filter((r) => r.commentId === id) };
    }
    const pulls = () => gh.pulls('acme', name);
    const pull = (n: number) => pulls().find((p) => p.number === n)!;
    const openPulls = () => pulls().filter((p) => p.state === 'open');
    /** Edits the dashboard's body as `user` and waits until the run that read the edit has finished. */
    async function edit(user: string, change: (body: string) => string) {
      const [issue] = gh.issues('acme', name);
      const since = env.jobs.length;
      await gh.editIssueAsUser('acme', name, issue!.number, user, change(issue!.body));
      const job = await env.waitForJob(
        'the run for the dashboard edit',
        (j) => j.repo === key && hasReason('dashboard-edit')(j),
        since,
      );
      expect(job.outcome).toBe('succeeded');
      await env.idle();
    }
    const dashboard = () => gh.issues('acme', name);
    return { image, file, push, say, pulls, pull, openPulls, edit, dashboard };
  }

  it('a reader gets 👎 and nothing changes; a writer holds the PR, a newer tag leaves it alone, unhold updates it', async () => {
    const s = await scenario('hold');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    const bodyBefore = pr.body;

    const denied = await s.say(pr.number, 'rita', '/tidemark hold');
    expect(denied.reactions.map((r) => r.content)).toEqual(['-1']);
    expect(s.pull(pr.number).body).toBe(bodyBefore);
    expect(s.pull(pr.number).comments).toHaveLength(1); // only rita's own

    const held = await s.say(pr.number, 'alice', 'Not this week.\n/tidemark hold');
    expect(held.reactions.map((r) => r.content)).toEqual(['+1']);
    const meta = parsePrMetadata(s.pull(pr.number).body);
    expect(meta?.hold?.by).toBe('alice');
    expect(s.pull(pr.number).comments.at(-1)).toContain('Held, as @alice asked');

    const head = await gh.branchHead('acme', 'hold', pr.head.ref);
    await s.push('1.2.0');
    expect(s.pull(pr.number).title.endsWith('1.1.0')).toBe(true);
    expect(await gh.branchHead('acme', 'hold', pr.head.ref)).toBe(head);
    expect(s.openPulls()).toHaveLength(1);
    const check = gh.checkRuns('acme', 'hold').at(-1)!;
    expect(check.output?.text).toContain(`held: PR #${pr.number} held by @\u200balice`);

    const unheld = await s.say(pr.number, 'alice', '/tidemark unhold');
    expect(unheld.reactions.map((r) => r.content)).toEqual(['+1']);
    expect(parsePrMetadata(s.pull(pr.number).body)?.hold).toBeUndefined();
    expect(s.pull(pr.number).title.endsWith('1.2.0')).toBe(true);
    expect(await s.file(pr.head.ref)).toContain(':1.2.0 #');
  });

  it('ignore this minor: the PR is closed, 1.1.x is never proposed again, 1.2.0 is', async () => {
    const s = await scenario('ignore');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    const said = await s.say(pr.number, 'alice', '/tidemark ignore this minor');
    expect(said.reactions.map((r) => r.content)).toEqual(['+1']);
    expect(s.pull(pr.number).state).toBe('closed');
    expect(parsePrMetadata(s.pull(pr.number).body)?.ignore).toMatchObject({ scope: 'minor', by: 'alice' });
    expect(s.pull(pr.number).comments.at(-1)).toContain('Ignoring 1.1.x of flux-system:web');
    expect(await gh.branchHead('acme', 'ignore', pr.head.ref)).toBeNull();

    await s.push('1.1.5');
    expect(s.openPulls()).toHaveLength(0);
    expect(gh.checkRuns('acme', 'ignore').at(-1)!.output?.text).toContain(
      'ignored: 1.1.x ignored by @\u200balice',
    );
    await s.push('1.2.0');
    const next = s.openPulls();
    expect(next).toHaveLength(1);
    expect(next[0]!.title.endsWith('1.2.0')).toBe(true);
  });

  it('an unknown command gets 😕 and a reply that suggests the right one', async () => {
    const s = await scenario('typo');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    const said = await s.say(pr.number, 'alice', '/tidemark hodl');
    expect(said.reactions.map((r) => r.content)).toEqual(['confused']);
    expect(s.pull(pr.number).comments.at(-1)).toContain('did you mean `/tidemark hold`?');
    expect(parsePrMetadata(s.pull(pr.number).body)?.hold).toBeUndefined();
  });

  it('rebase rebuilds a frozen branch from the base; recreate closes the PR and opens a fresh one', async () => {
    const s = await scenario('rebuild');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    const human = await gh.pushAsUser('acme', 'rebuild', pr.head.ref, { 'NOTES.md': 'x\n' }, 'hand edit');
    await s.push('1.2.0');
    expect(parsePrMetadata(s.pull(pr.number).body)?.frozen).toBe(true);
    expect(await gh.branchHead('acme', 'rebuild', pr.head.ref)).toBe(human);

    await s.say(pr.number, 'alice', '/tidemark rebase');
    const rebuilt = await gh.branchHead('acme', 'rebuild', pr.head.ref);
    expect(rebuilt).not.toBe(human);
    expect(await gh.readFile('acme', 'rebuild', pr.head.ref, 'NOTES.md')).toBeNull();
    expect(await s.file(pr.head.ref)).toContain(':1.2.0 #');
    expect(parsePrMetadata(s.pull(pr.number).body)?.frozen).toBeUndefined();

    await s.say(pr.number, 'alice', '/tidemark recreate');
    expect(s.pull(pr.number).state).toBe('closed');
    const fresh = s.openPulls();
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.number).not.toBe(pr.number);
    expect(fresh[0]!.title.endsWith('1.2.0')).toBe(true);
    // Closed by tidemark on request: not a declined version.
    expect(parsePrMetadata(s.pull(pr.number).body)?.closedByTidemark).toBe(true);
  });

  it('the dashboard lists open and held PRs; ticking a box lifts a hold (writers only); people’s text is kept', async () => {
    const s = await scenario('board');
    // The first run created it: one issue, with its title and no PR yet.
    expect(s.dashboard()).toHaveLength(1);
    expect(s.dashboard()[0]!.title).toBe('tidemark dashboard');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    expect(s.dashboard()[0]!.body).toContain(`- #${pr.number}: flux-system:web → \`1.1.0\``);

    await s.say(pr.number, 'alice', '/tidemark hold');
    const held = s.dashboard()[0]!.body;
    expect(held).toContain(
      `- [ ] <!-- tidemark-box: unhold:${pr.number} --> #${pr.number} (flux-system:web) held by \`@alice\``,
    );
    await s.push('1.2.0');

    // A reader ticks the box and writes a note above tidemark's part: the note stays, the hold too.
    const tick = (b: string) =>
      b.replace(
        `- [ ] <!-- tidemark-box: unhold:${pr.number} -->`,
        `- [x] <!-- tidemark-box: unhold:${pr.number} -->`,
      );
    await s.edit('rita', (b) => `Team note: prod freeze until Friday.\n\n${tick(b)}`);
    expect(parsePrMetadata(s.pull(pr.number).body)?.hold?.by).toBe('alice');
    const after = s.dashboard()[0]!.body;
    expect(after.startsWith('Team note: prod freeze until Friday.')).toBe(true);
    expect(after).toContain(`- [ ] <!-- tidemark-box: unhold:${pr.number} -->`);

    // A writer ticks it: the hold is lifted and the PR brought up to date in the same run; the box is gone.
    await s.edit('alice', tick);
    expect(parsePrMetadata(s.pull(pr.number).body)?.hold).toBeUndefined();
    expect(s.pull(pr.number).title.endsWith('1.2.0')).toBe(true);
    const final = s.dashboard()[0]!.body;
    expect(final.startsWith('Team note: prod freeze until Friday.')).toBe(true);
    expect(final).not.toContain('unhold:');
    expect(final).toContain(`- #${pr.number}: flux-system:web → \`1.2.0\``);
    expect(s.dashboard()).toHaveLength(1);
  });

  it('dashboard: false in .github/tidemark.yml: no dashboard issue', async () => {
    const s = await scenario('noboard', 'dashboard: false\n');
    await s.push('1.1.0');
    expect(s.openPulls()).toHaveLength(1);
    expect(s.dashboard()).toEqual([]);
  });

  it('PR metadata from the config: reviewers, team reviewers, assignees, draft, labels per update level', async () => {
    const s = await scenario(
      'meta',
      'update:\n  labels: [deps]\n  labelsByLevel: { minor: [minor-bump], major: [breaking] }\n  reviewers: [alice]\n  teamReviewers: [platform]\n  assignees: [max]\n  draft: true\n',
    );
    await s.push('1.1.0');
    const [pr] = s.openPulls();
    expect(pr).toMatchObject({
      draft: true,
      reviewers: ['alice'],
      teamReviewers: ['platform'],
      assignees: ['max'],
    });
    expect(pr!.labels.map((l) => l.name)).toEqual(['deps', 'minor-bump']);
    expect(pr!.autoMerge).toBeUndefined();
  });

  it('a PR that changes a policy gets a tidemark/preview check run: the pick under its config next to the base’s', async () => {
    const s = await scenario('preview');
    await pushImage(reg, s.image, '2.0.0', { seed: 'preview-2.0.0' });
    await s.push('1.1.0');
    const key = repoKeyOf({ installationId, owner: 'acme', repo: 'preview' });
    const since = env.jobs.length;
    const pr = await gh.openPullFromBranch('acme', 'preview', {
      head: 'allow-major',
      user: 'alice',
      title: 'Allow 2.x',
      files: {
        '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${s.image}\n    policy: { semver: { range: ">=1.0.0" } }\n`,
      },
    });
    await env.waitForJob('the preview run', (j) => j.repo === key && hasReason('pr-preview')(j), since);
    const preview = gh.checkRuns('acme', 'preview').filter((c) => c.name === 'tidemark/preview');
    expect(preview).toHaveLength(1);
    expect(preview[0]!.head_sha).toBe(pr.head.sha);
    expect(preview[0]!.conclusion).toBe('neutral');
    expect(preview[0]!.output?.title).toBe('tidemark preview: 1 policy picks differently once merged');
    expect(preview[0]!.output?.text).toContain('| flux-system:web | 1.1.0 | **2.0.0** |');
    expect(preview[0]!.output?.text).toContain(`+          image: ${reg.host}/${s.image}:2.0.0`);
    // Nothing was written: main and the PR's branch are as they were.
    expect(await gh.branchHead('acme', 'preview', 'allow-major')).toBe(pr.head.sha);
  });

  it('a PR that breaks the config fails the preview with an annotation on the line', async () => {
    const s = await scenario('preview-bad');
    const key = repoKeyOf({ installationId, owner: 'acme', repo: 'preview-bad' });
    const since = env.jobs.length;
    const pr = await gh.openPullFromBranch('acme', 'preview-bad', {
      head: 'typo',
      user: 'alice',
      title: 'Typo',
      files: {
        '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/${s.image}\n    policy: { semvr: { range: "^1" } }\n`,
      },
    });
    await env.waitForJob('the preview run', (j) => j.repo === key && hasReason('pr-preview')(j), since);
    const [preview] = gh.checkRuns('acme', 'preview-bad').filter((c) => c.name === 'tidemark/preview');
    expect(preview?.head_sha).toBe(pr.head.sha);
    expect(preview?.conclusion).toBe('failure');
    const output = preview!.output as {
      annotations?: { path: string; start_line: number; message: string }[];
    };
    expect(output.annotations).toContainEqual(
      expect.objectContaining({
        path: '.github/tidemark.yml',
        start_line: 4,
        message: expect.stringContaining('semvr: unknown field; did you mean "semver"?'),
      }),
    );
  });

  it('the dashboard lists an ignored version with a box; ticking it proposes that version again', async () => {
    const s = await scenario('unignore');
    await s.push('1.1.0');
    const pr = s.openPulls()[0]!;
    await s.say(pr.number, 'alice', '/tidemark ignore this version');
    expect(s.openPulls()).toHaveLength(0);
    const box = `- [ ] <!-- tidemark-box: unignore:${pr.number} -->`;
    expect(s.dashboard()[0]!.body).toContain(
      `${box} flux-system:web \`1.1.0\`: this version ignored by \`@alice\``,
    );
    await s.edit('alice', (b) => b.replace(box, box.replace('[ ]', '[x]')));
    const again = s.openPulls();
    expect(again).toHaveLength(1);
    expect(again[0]!.title.endsWith('1.1.0')).toBe(true);
    expect(s.dashboard()[0]!.body).not.toContain(`unignore:${pr.number}`);
  });
});
