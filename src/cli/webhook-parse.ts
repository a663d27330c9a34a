/**
 * `tidemark webhook parse --provider <name> [--headers <headers.json>] [--host-map key=host]… <body-file|->`
 *
 * Prints the normalised push events of one webhook body as JSON lines `{"image","tag","digest"}`; nothing
 * (exit 0) when the delivery is one to ignore; exit 2 with the parser's message for a malformed body. No
 * authentication is checked.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { REGISTRY_PROVIDERS, type RegistryProvider } from '../core/domain/types.js';
import { MalformedWebhookError, parseWebhook } from '../core/events/index.js';
import { type Command, readInput, UsageError } from './io.js';

const HELP = `Usage: tidemark webhook parse --provider <name> [--headers <headers.json>] [--host-map <key>=<host>]... <body-file|->

Parse one registry webhook body and print its push events as JSON lines {"image","tag","digest"}.
Prints nothing for deliveries that are ignored on purpose (pulls, deletes, pings, untagged pushes).

Options:
  --provider <name>      ${REGISTRY_PROVIDERS.join(', ')}
  --headers <file>       JSON object of request headers (some providers read X-GitHub-Event, ce-type, ...)
  --host-map <k>=<host>  host mapping (Nexus repository → host, JFrog repo key → prefix, payload host → public host); repeatable
  -h, --help             show this help

Exit codes: 0 parsed (possibly nothing to print), 2 malformed body or bad usage.
`;

async function readHeaders(file: string): Promise<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--headers ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--headers ${file}: expected a JSON object of header names to string values`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new UsageError(`--headers ${file}: header "${k}" must be a string`);
    out[k.toLowerCase()] = v;
  }
  return out;
}

function parseHostMap(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1)
      throw new UsageError(`--host-map "${pair}": expected <key>=<host>`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export const run: Command = async (argv, io) => {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: {
        provider: { type: 'string' };
        headers: { type: 'string' };
        'host-map': { type: 'string'; multiple: true };
        help: { type: 'boolean'; short: 'h' };
      };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        provider: { type: 'string' },
        headers: { type: 'string' },
        'host-map': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const provider = values.provider;
  if (provider === undefined)
    throw new UsageError(`--provider is required (one of ${REGISTRY_PROVIDERS.join(', ')})`);
  if (!(REGISTRY_PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(`unknown provider "${provider}"; valid providers: ${REGISTRY_PROVIDERS.join(', ')}`);
  }
  if (positionals.length !== 1)
    throw new UsageError('expected exactly one body file (or - for standard input)');
  const file = positionals[0] as string;
  const headers = values.headers === undefined ? {} : await readHeaders(values.headers);
  const hostMap = parseHostMap(values['host-map'] ?? []);
  let body: string;
  try {
    body = await readInput(io, file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const events = parseWebhook(provider as RegistryProvider, { headers, body }, { hostMap });
    for (const e of events)
      io.stdout(`${JSON.stringify({ image: e.image, tag: e.tag, digest: e.digest })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof MalformedWebhookError) {
      io.stderr(`tidemark webhook parse: malformed ${provider} webhook: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
};
