/**
 * Which repos is the App installed on? Listed at start and on every periodic reconcile, so a missed
 * installation webhook is caught too.
 */
import type { Probot } from 'probot';
import type { RepoTarget } from '../core/domain/types.js';
import { classifyGitHubError, type Octokit } from './port.js';

interface RawRepo {
  name: string;
  owner: { login: string };
  clone_url: string;
  default_branch?: string;
  archived?: boolean;
}

/**
 * Every repo of every installation. `octokitFor` gives an installation's client (default: probot's own, whose
 * token cache cannot be told that a token was revoked; the App passes one backed by its renewable tokens).
 */
export async function listInstalledRepos(
  probot: Probot,
  octokitFor: (installationId: number) => Promise<Octokit> = (id) => probot.auth(id) as Promise<Octokit>,
): Promise<RepoTarget[]> {
  const appOctokit = await probot.auth();
  const targets: RepoTarget[] = [];
  let installations: { id: number; suspended_at?: string | null }[];
  try {
    installations = (await appOctokit.paginate(appOctokit.rest.apps.listInstallations, {
      per_page: 100,
    })) as typeof installations;
  } catch (err) {
    throw classifyGitHubError(err, 'list installations');
  }
  for (const inst of installations) {
    if (inst.suspended_at) continue;
    const octokit = await octokitFor(inst.id);
    targets.push(...(await listInstallationRepos(octokit, inst.id)));
  }
  return targets;
}

export async function listInstallationRepos(octokit: Octokit, installationId: number): Promise<RepoTarget[]> {
  try {
    const repos = (await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, {
      per_page: 100,
    })) as unknown as RawRepo[];
    return repos
      .filter((r) => !r.archived)
      .map((r) => ({
        installationId,
        owner: r.owner.login,
        repo: r.name,
        cloneUrl: r.clone_url,
        defaultBranch: r.default_branch ?? 'main',
      }));
  } catch (err) {
    throw classifyGitHubError(err, 'list installation repositories');
  }
}

/** Fill in clone URL and default branch for a target that came from a payload without them. */
export async function completeTarget(octokit: Octokit, t: RepoTarget): Promise<RepoTarget> {
  if (t.cloneUrl && t.defaultBranch) return t;
  try {
    const { data } = await octokit.rest.repos.get({ owner: t.owner, repo: t.repo });
    return { ...t, cloneUrl: data.clone_url, defaultBranch: data.default_branch };
  } catch (err) {
    throw classifyGitHubError(err, `get repository ${t.owner}/${t.repo}`);
  }
}
