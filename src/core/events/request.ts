/** What every provider parser receives. */

export interface WebhookRequest {
  /** Header names lower-cased (as Node delivers them). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, exactly as received. */
  readonly body: string;
}

export interface ParseOptions {
  /**
   * Host mapping for payloads that cannot name the public registry host:
   * - Nexus: `repositoryName` → registry host (`docker-hosted` → `nexus.example.com:8443`); required.
   * - JFrog: `repo_key` → image prefix replacing `<jpd_origin host>/<repo_key>` (subdomain, port or virtual repo).
   * - Distribution, ACR, Gitea: the host the payload names (`request.host`, `html_url` host) → public host.
   */
  readonly hostMap?: Readonly<Record<string, string>>;
}

export function lookup(map: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  if (map === undefined) return undefined;
  if (Object.hasOwn(map, key)) return map[key];
  const lower = key.toLowerCase();
  return Object.hasOwn(map, lower) ? map[lower] : undefined;
}

/** The public host for a host named in the payload. */
export function mapHost(host: string, opts: ParseOptions): string {
  return lookup(opts.hostMap, host) ?? host;
}
