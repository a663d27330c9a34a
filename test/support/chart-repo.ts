/**
 * A static HTTP Helm repository on 127.0.0.1: serves `<prefix>/index.yaml` built from the charts it holds, with an
 * ETag (a request with a matching `If-None-Match` gets 304), and counts every request by answer.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChartRepo {
  /** The repository's URL, e.g. `http://127.0.0.1:41234/charts` (no trailing slash). */
  readonly url: string;
  /** Adds a chart version (index.yaml changes, and so its ETag). */
  add(chart: string, version: string): void;
  /** Requests answered, by status. */
  readonly answers: Map<number, number>;
  /** Every request's path, in order. */
  readonly requests: string[];
  stop(): Promise<void>;
}

export async function startChartRepo(
  charts: Readonly<Record<string, readonly string[]>>,
  /** `basic`: every request must carry these credentials (401 otherwise), as a private chart museum does. */
  opts: { prefix?: string; basic?: { user: string; pass: string } } = {},
): Promise<ChartRepo> {
  const prefix = opts.prefix ?? '/charts';
  const held = new Map(Object.entries(charts).map(([k, v]) => [k, [...v]]));
  const answers = new Map<number, number>();
  const requests: string[] = [];
  const index = (): string => {
    let out = 'apiVersion: v1\nentries:\n';
    for (const [chart, versions] of held) {
      out += `  ${chart}:\n`;
      for (const v of versions) {
        const digest = createHash('sha256').update(`${chart}-${v}`).digest('hex');
        out += `    - apiVersion: v2\n      name: ${chart}\n      version: ${v}\n      digest: ${digest}\n      urls:\n        - ${chart}-${v}.tgz\n`;
      }
    }
    return `${out}generated: "2026-12-04T00:00:00Z"\n`;
  };
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const answer = (status: number, body = '', headers: Record<string, string> = {}) => {
      answers.set(status, (answers.get(status) ?? 0) + 1);
      res.writeHead(status, headers).end(body);
    };
    const expected = opts.basic
      ? `Basic ${Buffer.from(`${opts.basic.user}:${opts.basic.pass}`).toString('base64')}`
      : undefined;
    if (expected && req.headers.authorization !== expected)
      return answer(401, 'unauthorized', { 'www-authenticate': 'Basic realm="charts"' });
    if (req.url !== `${prefix}/index.yaml`) return answer(404, 'not found');
    const body = index();
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) return answer(304, '', { etag });
    answer(200, body, { 'content-type': 'application/x-yaml', etag });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    add(chart, version) {
      held.set(chart, [...(held.get(chart) ?? []), version]);
    },
    answers,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
