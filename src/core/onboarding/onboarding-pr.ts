/**
 * The onboarding PR: what `tidemark init --write` would write, proposed as a pull request on a repo installed
 * with no image policies. Pure. It is an ordinary publish group (branch `tidemark/onboarding`) with its own text,
 * so the publishing plan opens, updates, freezes and holds it like any other.
 *
 * Closing it without merging means "not now": while such a closed PR exists, no onboarding PR is proposed again.
 * Re-opening it, or pushing a `.github/tidemark.yml`, is how a person asks again.
 */
import type { FileChange } from '../domain/types.js';
import { formatPrMetadata, markdownCell, type PrMetadata } from '../plan/messages.js';
import type { PullSummary } from '../plan/publish-plan.js';
import type { UpdateGroup } from '../plan/update.js';
import { CONFIG_PATH, type Proposal } from './propose.js';

export const ONBOARDING_BRANCH = 'tidemark/onboarding';

/** Whether to propose at all: not after a person closed an onboarding PR unmerged, nor once one was merged. */
export function onboardingWanted(pulls: readonly PullSummary[]): boolean {
  return !pulls.some(
    (p) =>
      p.headRef === ONBOARDING_BRANCH &&
      p.meta?.onboarding === true &&
      p.state === 'closed' &&
      (p.merged || !p.meta.closedByTidemark),
  );
}

/** The group to publish, or undefined when the proposal adds nothing. */
export function onboardingGroup(proposal: Proposal): UpdateGroup | undefined {
  const files: FileChange[] = [
    ...(proposal.config ? [{ file: CONFIG_PATH, ...proposal.config, changes: [] }] : []),
    ...proposal.files,
  ];
  const usable = proposal.proposals.filter((p) => p.inference.policy);
  if (files.length === 0 || usable.length === 0) return undefined;
  const rows = proposal.proposals.map((p) => {
    const i = p.inference;
    const current = p.image.tag ?? p.image.digest ?? '?';
    const bump =
      i.picks && i.picks !== current
        ? `\`${markdownCell(current)}\` → \`${markdownCell(i.picks)}\``
        : i.policy
          ? 'up to date'
          : '—';
    return `| \`${markdownCell(p.image.file)}:${p.image.line}\` | \`${markdownCell(p.image.repository)}\` | ${i.policy ? `\`${markdownCell(p.key)}\` (${i.scheme})` : 'none inferred'} | ${bump} | ${markdownCell(i.evidence)} (${i.confidence}) |`;
  });
  const meta: PrMetadata = { v: 1, onboarding: true, branch: ONBOARDING_BRANCH, policies: [] };
  const n = proposal.proposals.length;
  const body = [
    `tidemark found ${n} image reference${n === 1 ? '' : 's'} in this repository and proposes a policy for each, inferred from the tags its registry has. Merging this PR turns tidemark on: from then on it opens a PR whenever a newer tag is allowed.`,
    '',
    '| Where | Image | Policy | First bump | Evidence |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `**What this PR changes:** \`${CONFIG_PATH}\` (the policies; each rule can be edited here before merging) and a \`$imagepolicy\` marker comment at the end of each value's line — nothing else in those files.`,
    '',
    '**To change it:** edit the policies in this PR (tidemark then leaves the branch as you made it), or close it and write your own `.github/tidemark.yml` (`tidemark init --dir .` on a checkout prints the same proposal).',
    '',
    '**Not now?** Close this PR without merging: tidemark will not propose onboarding again. Re-open it, or push a `.github/tidemark.yml`, to start.',
    '',
    formatPrMetadata(meta),
  ].join('\n');
  return {
    kind: 'all',
    branch: ONBOARDING_BRANCH,
    updates: [],
    files,
    onboarding: {
      title: 'chore(tidemark): keep container images up to date',
      body,
      commitBody: `Policies in ${CONFIG_PATH} and $imagepolicy markers for ${usable.length} image reference${usable.length === 1 ? '' : 's'}, proposed by tidemark.`,
    },
  };
}
