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
  'remoteHeads' | 'commitsBetween' | 'mergeBase' | 'treeBlobs'
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
  // By blob id: the planned texts are hashed here as git hashes them, the branch's ids listed in one process.
  const atHead = await ws.treeBlobs(branchHead);
  if (group.files.some((f) => atHead.get(f.file) !== blobId(f.newText, atHead))) return false;
  if (mergeBase === baseSha) return true;
  const atMergeBase = await ws.treeBlobs(mergeBase);
  return group.files.every((f) => atMergeBase.get(f.file) === blobId(f.oldText, atMergeBase));
}

/** Git's id of a blob holding `text` (UTF-8), in the repository's object format (SHA-1, or SHA-256). */
export function blobId(text: string, tree: ReadonlyMap<string, string>): string {
  const sha256 = tree.values().next().value?.length === 64;
  const bytes = Buffer.from(text, 'utf8');
  return createHash(sha256 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}
