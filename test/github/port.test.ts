/** The octokit port against the GitHub double (real HTTP, requests checked against GitHub's OpenAPI description). */
import { ProbotOctokit } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BranchMovedError } from '../../src/core/errors.js';
import { octokitPort } from '../../src/github/port.js';
import { type GitHubDouble, startGitHubDouble } from '../support/github-double/index.js';

describe('octokitPort', () => {
  let gh: GitHubDouble;
  let port: ReturnType<typeof octokitPort>;
  beforeAll(async () => {
    gh = await startGitHubDouble();
    const installationId = gh.addInstallation('acme');
    await gh.addRepo({ installationId, owner: 'acme', name: 'config', files: { 'a.yaml': 'a: 1\n' } });
    await gh.pushAsUser('acme', 'config', 'tidemark/flux-system-web', { 'a.yaml': 'a: 2\n' }, 'bump');
    const { APP_ID, PRIVATE_KEY, GITHUB_API_URL } = gh.appEnv();
    const octokit = new ProbotOctokit({
      auth: { appId: APP_ID, privateKey: PRIVATE_KEY, installationId },
      baseUrl: GITHUB_API_URL,
    });
    port = octokitPort(octokit as never);
  });
  afterAll(async () => {
    gh.assertNoValidationErrors();
    await gh?.stop();
  });

  it('a PR that already exists (a crash after creating it) is a state to read afresh, not a failure', async () => {
    const repo = { owner: 'acme', repo: 'config' };
    const pr = { head: 'tidemark/flux-system-web', base: 'main', title: 'bump', body: '' };
    const first = await port.createPull(repo, pr);
    expect(first.number).toBeGreaterThan(0);
    const again = await port.createPull(repo, pr).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(BranchMovedError);
    expect((again as Error).message).toBe(
      'acme/config: a pull request from tidemark/flux-system-web already exists; the run will read PRs afresh and update it',
    );
    expect((await port.listPulls(repo)).filter((p) => p.state === 'open')).toHaveLength(1);
  });
});
