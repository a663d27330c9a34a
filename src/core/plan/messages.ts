/**
 * Commit messages, PR titles and PR bodies. The PR body ends with a hidden metadata block that the next run
 * parses back, so a PR is recognised and updated in place instead of duplicated.
 */
import { gateLine } from './gates.js';
import type { PolicyUpdate, UpdateGroup } from './update.js';

export const DEFAULT_COMMIT_TEMPLATE = 'chore(deps): update {image} to {newTag}';
export const COMMIT_TRAILER = 'Tidemark-Policy';

export interface CommitMessage {
  readonly headline: string;
  readonly body: string;
}

/** Replace `{policy}`, `{image}`, `{oldTag}`, `{newTag}`, `{digest}`, `{changes}` in a template. */
export function renderTemplate(template: string, u: PolicyUpdate): string {
  const values: Record<string, string> = {
    policy: u.key,
    image: u.image,
    oldTag: u.oldTag ?? '',
    newTag: u.newTag,
    digest: u.digest ?? '',
    changes: String(u.changes.length),
  };
  return template.replace(
    /\{(policy|image|oldTag|newTag|digest|changes)\}/g,
    (_, k: string) => values[k] ?? '',
  );
}

export function commitMessage(group: UpdateGroup, template = DEFAULT_COMMIT_TEMPLATE): CommitMessage {
  if (group.onboarding)
    return {
      headline: group.onboarding.title,
      body: `${group.onboarding.commitBody}\n\n${COMMIT_TRAILER}: onboarding`,
    };
  const first = group.updates[0];
  const headline =
    group.updates.length === 1 && first
      ? renderTemplate(template, first).split('\n')[0]!
      : `chore(deps): update ${group.updates.length} images`;
  const lines = group.updates.map(
    (u) => `- ${u.image}: ${u.oldTag ?? '?'} → ${u.newTag}${u.digest ? ` (${u.digest})` : ''} [${u.key}]`,
  );
  const trailers = group.updates.map((u) => `${COMMIT_TRAILER}: ${u.key}`);
  return { headline, body: `${lines.join('\n')}\n\n${trailers.join('\n')}` };
}

export function prTitle(group: UpdateGroup, template = DEFAULT_COMMIT_TEMPLATE): string {
  return commitMessage(group, template).headline;
}

export interface PrMetadata {
  readonly v: 1;
  readonly branch: string;
  readonly policies: readonly { readonly key: string; readonly tag: string; readonly digest?: string }[];
  /** Someone else pushed to the branch: tidemark no longer updates it (and has said so once). */
  readonly frozen?: boolean;
  /** tidemark closed the PR itself (superseded or moot): this is not a user's "skip this version". */
  readonly closedByTidemark?: boolean;
  /** Someone with write access said `/tidemark ignore this version|minor|major` (the PR is then closed). */
  readonly ignore?: {
    readonly scope: 'version' | 'minor' | 'major';
    readonly by: string;
    readonly at: string;
  };
  /** Someone with write access said `/tidemark hold`: the PR is kept as it is until `/tidemark unhold`. */
  readonly hold?: { readonly by: string; readonly at: string };
  /** The onboarding PR (policies and markers for a repo that had none). */
  readonly onboarding?: boolean;
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

function readWho(v: unknown): { by: string; at: string } | undefined {
  const o = v as { by?: unknown; at?: unknown } | null;
  if (typeof o !== 'object' || o === null) return undefined;
  if (typeof o.by !== 'string' || !LOGIN.test(o.by) || typeof o.at !== 'string' || o.at.length > 40)
    return undefined;
  return { by: o.by, at: o.at };
}

/** tidemark writes its block as the body's last line; only a block there counts (text above it is not trusted). */
const META_RE = /<!-- tidemark: (\{[^\n]*?\}) -->\s*$/;

export function parsePrMetadata(body: string | null | undefined): PrMetadata | undefined {
  const m = body ? META_RE.exec(body) : null;
  if (!m) return undefined;
  try {
    const parsed = JSON.parse(m[1]!) as Partial<PrMetadata>;
    if (parsed.v !== 1 || typeof parsed.branch !== 'string' || !Array.isArray(parsed.policies))
      return undefined;
    const who = readWho(parsed.ignore);
    const scope = (parsed.ignore as { scope?: unknown } | undefined)?.scope;
    const ignore: PrMetadata['ignore'] =
      who && (scope === 'version' || scope === 'minor' || scope === 'major') ? { scope, ...who } : undefined;
    const hold = readWho(parsed.hold);
    const policies = parsed.policies.filter(
      (p): p is PrMetadata['policies'][number] =>
        typeof p === 'object' && p !== null && typeof p.key === 'string' && typeof p.tag === 'string',
    );
    return {
      v: 1,
      branch: parsed.branch,
      policies,
      ...(parsed.frozen === true && { frozen: true }),
      ...(parsed.closedByTidemark === true && { closedByTidemark: true }),
      ...(ignore && { ignore }),
      ...(hold && { hold }),
      ...(parsed.onboarding === true && { onboarding: true }),
    };
  } catch {
    return undefined;
  }
}

export function metadataFor(group: UpdateGroup): PrMetadata {
  return {
    v: 1,
    ...(group.onboarding && { onboarding: true }),
    branch: group.branch,
    policies: group.updates.map((u) => ({
      key: u.key,
      tag: u.newTag,
      ...(u.digest && { digest: u.digest }),
    })),
  };
}

export function formatPrMetadata(meta: PrMetadata): string {
  // `--` cannot appear inside an HTML comment; JSON of our values never contains it, but be safe.
  return `<!-- tidemark: ${JSON.stringify(meta).replace(/--/g, '-\\u002d')} -->`;
}

/** The same body with its metadata block replaced (or appended when it has none). */
export function withMetadata(body: string, meta: PrMetadata): string {
  const block = formatPrMetadata(meta);
  return META_RE.test(body) ? body.replace(META_RE, () => block) : `${body}\n\n${block}`;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * Text from a repo or a registry as one Markdown table cell or list item: no column break, no line break, no
 * HTML (a comment could hide text or forge tidemark's metadata), no @-mention.
 */
export function markdownCell(s: string): string {
  return escapeCell(s.replace(/\r/g, ''))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(?=[A-Za-z0-9])/g, '@\u200b');
}

/** A link to the image in its registry's web UI, where one is known. */
export function registryLink(image: string, tag: string): string | undefined {
  const [host, ...rest] = image.split('/');
  const path = rest.join('/');
  if (host === 'ghcr.io')
    return `https://github.com/${rest[0]}/${rest.slice(1).join('/')}/pkgs/container/${rest.slice(1).join('%2F')}`;
  if (host === 'docker.io' || host === undefined || !image.includes('/')) {
    const name = path.startsWith('library/') ? `_/${path.slice(8)}` : `r/${path}`;
    return `https://hub.docker.com/${name}/tags?name=${encodeURIComponent(tag)}`;
  }
  if (host === 'quay.io') return `https://quay.io/repository/${path}?tab=tags`;
  return undefined;
}

/** `https://github.com/o/r/compare/old...new` when both images name the same GitHub source repo. */
export function sourceCompareLink(u: PolicyUpdate): string | undefined {
  const oldP = u.provenance?.old;
  const newP = u.provenance?.new;
  if (!oldP?.source || !newP?.source || !oldP.revision || !newP.revision) return undefined;
  const norm = (s: string) => s.replace(/\.git$/, '').replace(/\/+$/, '');
  if (norm(oldP.source) !== norm(newP.source)) return undefined;
  // Image labels are written by whoever built the image: only a plain https repository URL and revision
  // names (a commit SHA, a tag) ever reach the PR body; anything else (HTML, Markdown, @-mentions, a forged
  // metadata block) means no link at all.
  if (!/^https:\/\/[A-Za-z0-9.-]+(:\d+)?\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(norm(newP.source)))
    return undefined;
  const safeRev = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
  if (
    !safeRev.test(oldP.revision) ||
    !safeRev.test(newP.revision) ||
    /\.\./.test(oldP.revision + newP.revision)
  )
    return undefined;
  if (oldP.revision === newP.revision) return undefined;
  return `${norm(newP.source)}/compare/${oldP.revision}...${newP.revision}`;
}

export function prBody(group: UpdateGroup): string {
  if (group.onboarding) return group.onboarding.body;
  const out: string[] = [];
  out.push(
    group.updates.length === 1
      ? 'This PR updates a container image to the newest tag its image policy allows.'
      : `This PR updates ${group.updates.length} container images to the newest tags their image policies allow.`,
    '',
    '| Policy | Image | Update |',
    '| --- | --- | --- |',
  );
  for (const u of group.updates) {
    const link = registryLink(u.image, u.newTag);
    const to = link ? `[\`${u.newTag}\`](${link})` : `\`${u.newTag}\``;
    out.push(
      `| \`${escapeCell(u.key)}\` | \`${escapeCell(u.image)}\` | \`${escapeCell(u.oldTag ?? '?')}\` → ${to} |`,
    );
  }
  out.push('', '<details open><summary>Changed values</summary>', '', '| File | Line | Old | New | Policy |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const u of group.updates) {
    for (const c of u.changes) {
      out.push(
        `| \`${escapeCell(c.file)}\` | ${c.line} | \`${escapeCell(c.old)}\` | \`${escapeCell(c.new)}\` | \`${escapeCell(c.setter)}\` |`,
      );
    }
  }
  out.push('', '</details>');
  const compares = group.updates.flatMap((u) => {
    const link = sourceCompareLink(u);
    return link ? [`- ${u.image}: [source changes](${link})`] : [];
  });
  const digests = group.updates
    .filter((u) => u.digest)
    .map((u) => `- ${u.image}:${u.newTag} is \`${u.digest}\``);
  const gated = group.updates.filter((u) => u.checks?.length);
  if (gated.length > 0) {
    out.push('', '### Trust gates', '');
    for (const u of gated)
      out.push(
        ...(group.updates.length > 1 ? [`${markdownCell(u.key)}:`] : []),
        ...u.checks!.map((c) => gateLine(c, markdownCell)),
      );
  }
  if (compares.length > 0) out.push('', '### Source changes', '', ...compares);
  if (digests.length > 0) out.push('', '### Digests', '', ...digests);
  out.push(
    '',
    '---',
    'Opened by tidemark. Merge it to roll out, or close it to skip this version (a newer tag will be proposed again).',
    '',
    formatPrMetadata(metadataFor(group)),
  );
  return out.join('\n');
}
