/**
 * The GitHub App manifest the setup page sends to GitHub (the "manifest flow"): `app.yml` as written, with
 * the URLs of this tidemark — the webhook URL where GitHub will deliver events, the redirect back to the setup
 * page. Pure: the caller reads `app.yml` and knows its own origin.
 *
 * The webhook URL is, in order: `PUBLIC_URL` + the webhook path (tidemark behind an ingress), `WEBHOOK_PROXY_URL`
 * as is (a smee.io channel forwarding to a laptop), or the origin the setup page was opened at + the webhook
 * path. Never the placeholder that `app.yml` carries.
 */
export interface ManifestUrls {
  /** `http(s)://host[:port]` the browser used to open the setup page. */
  readonly origin: string;
  readonly webhookPath: string;
  readonly publicUrl?: string;
  readonly webhookProxyUrl?: string;
}

export function appManifest(
  appYml: Readonly<Record<string, unknown>>,
  urls: ManifestUrls,
): Record<string, unknown> {
  const base = (urls.publicUrl ?? urls.origin).replace(/\/+$/, '');
  const hookUrl = urls.publicUrl
    ? `${base}${urls.webhookPath}`
    : (urls.webhookProxyUrl ?? `${base}${urls.webhookPath}`);
  const hook =
    typeof appYml.hook_attributes === 'object' && appYml.hook_attributes !== null
      ? appYml.hook_attributes
      : {};
  return {
    ...appYml,
    public: appYml.public ?? false,
    hook_attributes: { ...hook, url: hookUrl },
    redirect_url: `${base}/probot/setup`,
  };
}

/** Text safe inside a single-quoted HTML attribute (and anywhere else in HTML). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Where the browser posts the manifest: github.com, an organization's settings, or a GHES host. */
export function createAppUrl(opts: { gheHost?: string; gheProtocol?: string; org?: string }): string {
  const host = opts.gheHost ?? 'github.com';
  const org = opts.org ? `/organizations/${encodeURIComponent(opts.org)}` : '';
  return `${opts.gheProtocol ?? 'https'}://${host}${org}/settings/apps/new`;
}

/** The setup page: what tidemark is, what it asks for, and the form that registers it. */
export function setupPage(opts: {
  manifest: Record<string, unknown>;
  createAppUrl: string;
  version: string;
}): string {
  const m = opts.manifest;
  const perms = Object.entries((m.default_permissions as Record<string, string> | undefined) ?? {})
    .map(([k, v]) => `<li><code>${escapeHtml(k)}</code>: ${escapeHtml(v)}</li>`)
    .join('');
  const events = ((m.default_events as string[] | undefined) ?? [])
    .map((e) => `<code>${escapeHtml(e)}</code>`)
    .join(', ');
  const hook = (m.hook_attributes as { url?: string } | undefined)?.url ?? '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Register tidemark</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}button{font-size:1rem;padding:.5rem 1rem}</style>
</head>
<body>
<h1>Register tidemark ${escapeHtml(opts.version)} as a GitHub App</h1>
<p>${escapeHtml(String(m.description ?? ''))}</p>
<p>GitHub will create the app <strong>${escapeHtml(String(m.name ?? 'tidemark'))}</strong> with these permissions:</p>
<ul id="permissions">${perms}</ul>
<p>and subscribe it to ${events} (installation events are always sent).</p>
<p>GitHub will deliver webhooks to <code id="webhook-url">${escapeHtml(hook)}</code>. If GitHub cannot reach that
address, set <code>PUBLIC_URL</code> (behind an ingress) or <code>WEBHOOK_PROXY_URL</code> (a smee.io channel) and reload.</p>
<form action="${escapeHtml(opts.createAppUrl)}" method="post">
<input type="hidden" name="manifest" id="manifest" value='${escapeHtml(JSON.stringify(m))}'>
<button type="submit" id="register">Register a GitHub App</button>
</form>
</body>
</html>
`;
}
