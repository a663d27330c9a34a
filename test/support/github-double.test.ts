/**
 * The GitHub double's crash hooks: `crashAfter` applies a request and cuts its connection, `crashBefore` cuts it
 * before anything is applied; GraphQL mutations are matched by name. And what octokit (as tidemark configures
 * it: the retry plugin on) does with a cut connection: it sends the same request again.
 */
import { ProbotOctokit } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubDouble, startGitHubDouble } from './github-double/index.js';

const COMMIT = /* GraphQL */ `
  mutation ($input: CreateCommitOnBranchInput!) {
    createCommitOnBranch(input: $input) {
      commit {
        oid
      }
    }
  }
`;
const AUTO_MERGE = /* GraphQL */ `
  mutation ($input: EnablePullRequestAutoMergeInput!) {
    enablePullRequestAutoMerge(input: $input) {
      clientMutationId
    }
  }
`;

describe('GitHub double: crashes', () => {
  let gh: GitHubDouble;
  let installationId: number;
  const client = (retry: boolean) => {
    const { APP_ID, PRIVATE_KEY, GITHUB_API_URL } = gh.appEnv();
    return new ProbotOctokit({
      auth: { appId: APP_ID, privateKey: PRIVATE_KEY, installationId },
      baseUrl: GITHUB_API_URL,
      // As tidemark's (main.ts): the retry plugin on; the throttle off, as the e2e harness runs it.
      retry: { enabled: retry },
      throttle: { enabled: false },
    });
  };
  const repo = { owner: 'acme', repo: 'crash' };
  const pr = (head: string) => ({ ...repo, head, base: 'main', title: head, body: '' });
  const commit = (octokit: ReturnType<typeof client>, branch: string, expectedHeadOid: string) =>
    octokit.graphql<{ createCommitOnBranch: { commit: { oid: string } } }>(COMMIT, {
      input: {
        branch: { repositoryNameWithOwner: 'acme/crash', branchName: branch },
        expectedHeadOid,
        message: { headline: 'bump' },
        fileChanges: { additions: [{ path: 'a.yaml', contents: Buffer.from('a: 2\n').toString('base64') }] },
      },
    });

  beforeAll(async () => {
    gh = await startGitHubDouble();
    installationId = gh.addInstallation('acme');
    await gh.addRepo({ installationId, owner: 'acme', name: 'crash', files: { 'a.yaml': 'a: 1\n' } });
    for (const b of ['after', 'before', 'retried', 'commit'])
      await gh.pushAsUser('acme', 'crash', b, { 'b.yaml': `${b}\n` }, b);
  });
  afterAll(async () => {
    gh.assertNoValidationErrors();
    await gh?.stop();
  });

  it('crashAfter: the PR is created, the client sees a reset connection; the next request is answered', async () => {
    const taken = gh.crashAfter('POST', '/repos/{owner}/{repo}/pulls');
    const octokit = client(false);
    const err = (await octokit.rest.pulls.create(pr('after')).catch((e: unknown) => e)) as {
      status?: number;
      message?: string;
    };
    expect(err.status).toBe(500); // octokit's status for a request that got no answer
    expect(err.message).toMatch(/fetch failed|other side closed|socket|reset/i);
    expect(taken()).toBe(1);
    expect(gh.pulls('acme', 'crash').map((p) => p.head.ref)).toEqual(['after']);
    expect(gh.requests.at(-1)).toMatchObject({ status: 201, crashed: 'after' });
    // One request only: the next one is answered.
    const list = await octokit.rest.pulls.list({ ...repo, state: 'open' });
    expect(list.data.map((p) => p.head.ref)).toEqual(['after']);
  });

  it('crashBefore: nothing is applied, the client sees a reset connection', async () => {
    const taken = gh.crashBefore('POST', '/repos/{owner}/{repo}/pulls');
    const err = (await client(false)
      .rest.pulls.create(pr('before'))
      .catch((e: unknown) => e)) as { status?: number };
    expect(err.status).toBe(500);
    expect(taken()).toBe(1);
    expect(gh.pulls('acme', 'crash').map((p) => p.head.ref)).toEqual(['after']);
    expect(gh.requests.at(-1)).toMatchObject({ status: 0, crashed: 'before' });
  });

  it("octokit's retry plugin sends a cut request again: after crashAfter, GitHub says the PR exists", async () => {
    gh.crashAfter('POST', '/repos/{owner}/{repo}/pulls');
    const err = (await client(true)
      .rest.pulls.create(pr('retried'))
      .catch((e: unknown) => e)) as { status?: number; message?: string };
    expect(err.status).toBe(422);
    expect(err.message).toMatch(/A pull request already exists for acme:retried/);
    expect(gh.pulls('acme', 'crash').filter((p) => p.head.ref === 'retried')).toHaveLength(1);
  });

  it('GraphQL mutations are matched by name; times: n cuts n requests', async () => {
    const octokit = client(false);
    const [open] = gh.pulls('acme', 'crash');
    // A crash staged for createCommitOnBranch leaves enablePullRequestAutoMerge alone, and the other way round.
    const commits = gh.crashAfter('POST', '/graphql', { graphql: 'createCommitOnBranch' });
    const arms = gh.crashBefore('POST', '/graphql', { graphql: 'enablePullRequestAutoMerge', times: 2 });
    const head = (await gh.branchHead('acme', 'crash', 'commit'))!;
    await expect(commit(octokit, 'commit', head)).rejects.toMatchObject({ status: 500 });
    expect(commits()).toBe(1);
    expect(arms()).toBe(0);
    // Applied: the branch moved, so the same commit again is a stale compare-and-swap.
    const moved = await gh.branchHead('acme', 'crash', 'commit');
    expect(moved).not.toBe(head);
    expect(await gh.readFile('acme', 'crash', 'commit', 'a.yaml')).toBe('a: 2\n');
    await expect(commit(octokit, 'commit', head)).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'STALE_DATA' })],
    });
    const arm = () =>
      octokit.graphql(AUTO_MERGE, { input: { pullRequestId: open!.node_id, mergeMethod: 'SQUASH' } });
    await expect(arm()).rejects.toMatchObject({ status: 500 });
    await expect(arm()).rejects.toMatchObject({ status: 500 });
    expect(arms()).toBe(2);
    const listed = async () =>
      (await octokit.rest.pulls.list({ ...repo, state: 'open' })).data.find((p) => p.number === open!.number);
    expect((await listed())?.auto_merge).toBeNull();
    await arm();
    expect((await listed())?.auto_merge).toMatchObject({ merge_method: 'squash' });
  });
});
