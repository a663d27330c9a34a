/**
 * Where a CLI command reads tags from: a `--tags-file`, or the registries with the operator's settings (Docker
 * config, mirrors, cloud identity) and the repo's access — built as the App builds it.
 */
import { readFile } from 'node:fs/promises';
import type { RegistryEnv } from '../config/env.js';
import { insecureHostsAllowed, type RegistryAccess } from '../core/config/registry-access.js';
import { RegistryClients } from '../registry/clients.js';
import { cloudCredentialsFromEnv } from '../registry/cloud/from-env.js';
import type { DeclaredProvider } from '../registry/cloud/select.js';
import { FixedTagSource, parseTagsFile } from '../registry/fixed-tags.js';
import type { RegistryClient } from '../registry/types.js';
import type { CliIO } from './io.js';

/** The tag source, or the message naming why the tags file cannot be used. */
export async function registrySource(
  io: CliIO,
  tagsFile: string | undefined,
  operator: RegistryEnv,
  access: RegistryAccess,
  providers: Readonly<Record<string, DeclaredProvider>> = {},
  secretRefs: Readonly<Record<string, string>> = {},
): Promise<RegistryClient | { readonly error: string }> {
  if (tagsFile) {
    try {
      return new FixedTagSource(parseTagsFile(JSON.parse(await readFile(tagsFile, 'utf8'))));
    } catch (err) {
      return { error: `${tagsFile}: ${(err as Error).message}` };
    }
  }
  // The same cloud identity as the App's (TIDEMARK_CLOUD_IDENTITY; its problems were listed with the env's).
  const { cloud } = cloudCredentialsFromEnv(io.env);
  return new RegistryClients({ ...operator, cloud, insecureHosts: insecureHostsAllowed(io.env) }).for(
    access,
    providers,
    secretRefs,
  );
}
