/**
 * Collect what the publishing plan needs to know from git: for each group's branch its head, the commits on
 * it that tidemark did not make, and whether it already holds the group's change; for merged PRs, where their
 * branches point now. Reads only; decides nothing.
 */

import { createHash } from 'node:crypto';
import {
  type BranchFacts,
  isTidemarkCommit,
  type PublishFacts,
  type PullSummary,
  type ReconcilePlan,
} from '../core/plan/publish-plan.js';
import type { UpdateGroup } from '../core/plan/update.js';
import type { RepoWorkspace } from '../git/workspace.js';

export type PublishWorkspace = Pick<
  RepoWorkspace,
  'remoteHeads' | 'commitsBetween' | 'mergeBase' | 'changedBlobs'
>;

export async function collectPublishFacts(
  ws: PublishWorkspace,
  plan: Pick<ReconcilePlan, 'groups'>,
  strategy: 'pull-request' | 'push',
  baseSha: string,
  pulls: readonly PullSummary[],
): Promise<PublishFacts> {
  const branches: Record<string, BranchFacts> = {};
  const mergedHeads: Record<string, string | undefined> = {};
  if (strategy === 'pull-request') {
    const heads = await ws.remoteHeads();
    for (const group of plan.groups)
      branches[group.branch] = await branchFacts(ws, group, heads.get(group.branch), baseSha);
    const live = new Set(plan.groups.map((g) => g.branch));
    for (const p of pulls) {
      if (!p.merged || live.has(p.headRef) || p.headRef in mergedHeads) continue;
      mergedHeads[p.headRef] = heads.get(p.headRef);
    }
  }
  return { baseSha, pulls, branches, mergedHeads };
}

async function branchFacts(
  ws: PublishWorkspace,
  group: UpdateGroup,
  head: string | undefined,
  baseSha: string,
): Promise<BranchFacts> {
  if (!head) return { foreign: [], holds: false };
  const foreign = (await ws.commitsBetween(baseSha, head))
    .filter((c) => !isTidemarkCommit(c.message))
    .map((c) => c.sha);
  if (foreign.length > 0) return { head, foreign, holds: false };
  return { head, foreign, holds: await branchHolds(ws, group, head, baseSha) };
}

/** True when the branch already carries exactly this group's change on a base that has not touched its files. */
async function branchHolds(
  ws: PublishWorkspace,
  group: UpdateGroup,
  branchHead: string,
  baseSha: string,
): Promise<boolean> {
  const mergeBase = await ws.mergeBase(baseSha, branchHead);
  if (!mergeBase) return false;
  // By blob id: what the branch changed since the merge base (`git diff-tree`, a few lines) against the planned
  // texts hashed here as git hashes them. Every file of the group must be changed to its planned text.
  const onBranch = await ws.changedBlobs(mergeBase, branchHead);
  const sha256 = [...onBranch.values()].some((oid) => oid?.length === 64);
  if (group.files.some((f) => onBranch.get(f.file) !== blobId(f.newText, sha256))) return false;
  if (mergeBase === baseSha) return true;
  // The base moved on: it must not have touched the group's files since (they still hold the old texts).
  const onBase = await ws.changedBlobs(mergeBase, baseSha);
  return group.files.every((f) => !onBase.has(f.file));
}

/** Git's id of a blob holding `text` (UTF-8), in the repository's object format (SHA-1, or SHA-256). */
export function blobId(text: string, sha256 = false): string {
  const bytes = Buffer.from(text, 'utf8');
  return createHash(sha256 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}
