/**
 * `tidemark init [--dir <repo>] [--tags-file <tags.json>] [--write] [--json]`: find the images in a repo that has
 * no markers yet, infer a policy for each from its registry's tags, and propose `.github/tidemark.yml` plus a
 * marker beside every value. `--write` writes them; `tidemark plan` then shows the bumps.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readRegistryEnv } from '../config/env.js';
import { NO_REPO_ACCESS } from '../core/config/registry-access.js';
import { ConfigError } from '../core/errors.js';
import { type DetectedImage, detectImages } from '../core/onboarding/detect.js';
import { type Inference, inferPolicy } from '../core/onboarding/infer.js';
import { CONFIG_PATH, propose } from '../core/onboarding/propose.js';
import { formatUnifiedDiff } from '../core/plan/unified-diff.js';
import { policyKey } from '../core/policy/types.js';
import { RegistryClients } from '../registry/clients.js';
import { cloudCredentialsFromEnv } from '../registry/cloud/from-env.js';
import { FixedTagSource, parseTagsFile } from '../registry/fixed-tags.js';
import type { RegistryClient } from '../registry/types.js';
import { CheckoutReader } from '../workspace/checkout.js';
import { loadRepoConfigFrom } from '../workspace/load-config.js';
import { applyFileChanges } from '../workspace/scan-tree.js';
import type { Command } from './io.js';

const HELP = `Usage: tidemark init [--dir <repo>] [--tags-file <tags.json>] [--write] [--json]

Finds the container images a config repo deploys (workload containers, Helm values and HelmRelease values,
kustomize images:, docker-compose, helmfile *.gotmpl), infers a policy for each from the tags its registry has,
and proposes .github/tidemark.yml plus a $imagepolicy marker beside every value.

  --dir        the config repo checkout (default: the current directory)
  --tags-file  { "<image>": ["tag", …] } instead of asking the registries
  --write      write the proposal (an existing .github/tidemark.yml is extended, never overwritten)
  --json       print the proposal as JSON

Afterwards \`tidemark plan\` shows the bumps. Running init again proposes nothing new.
Exit codes: 0 proposal printed or written (or nothing to propose), 2 bad usage or unreadable input.
`;

const YAML_FILE = /\.(ya?ml|gotmpl)$|(^|\/)Kustomization$/;

export const run: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      'tags-file': { type: 'string' },
      write: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const dir = resolve(io.cwd, values.dir ?? '.');
  const envProblems: string[] = [];
  const operator = readRegistryEnv(io.env, envProblems);
  if (envProblems.length > 0) {
    io.stderr(`${envProblems.join('\n')}\n`);
    return 2;
  }
  let reader: CheckoutReader;
  try {
    reader = await CheckoutReader.open(dir);
  } catch (err) {
    io.stderr(`tidemark init: cannot read ${dir}: ${(err as Error).message}\n`);
    return 2;
  }
  const loaded = await loadRepoConfigFrom(reader);
  if (loaded.errors.length > 0) {
    io.stderr(
      `${loaded.errors.map((e) => e.text).join('\n')}\nFix these first: init extends a valid configuration.\n`,
    );
    return 2;
  }
  const files = (
    await reader.read({ accept: (rel) => YAML_FILE.test(rel) && !rel.startsWith('.github/') })
  ).map((f) => ({ path: f.path, text: f.text }));
  const detection = detectImages(files);
  for (const n of detection.notes) io.stderr(`note: ${n.message}\n`);
  if (detection.images.length === 0) {
    io.stderr(`nothing to propose: no image reference without a marker found in ${dir}\n`);
    return 0;
  }

  let registry: RegistryClient;
  if (values['tags-file']) {
    try {
      registry = new FixedTagSource(parseTagsFile(JSON.parse(await readFile(values['tags-file'], 'utf8'))));
    } catch (err) {
      io.stderr(`${values['tags-file']}: ${(err as Error).message}\n`);
      return 2;
    }
  } else {
    const { cloud } = cloudCredentialsFromEnv(io.env);
    registry = new RegistryClients({ ...operator, cloud }).for(NO_REPO_ACCESS);
  }
  const tagsOf = new Map<string, string[] | Error>();
  for (const image of new Set(detection.images.map((i) => i.repository))) {
    try {
      tagsOf.set(image, await registry.listTags(image));
    } catch (err) {
      tagsOf.set(image, err as Error);
    }
  }
  const inferences = new Map<DetectedImage, Inference>();
  const infer = (image: DetectedImage): Inference => {
    const known = inferences.get(image);
    if (known) return known;
    const tags = tagsOf.get(image.repository);
    const inference: Inference =
      tags instanceof Error || tags === undefined
        ? {
            scheme: 'none',
            confidence: 'low',
            evidence: `the registry could not list the tags of ${image.repository} (${tags instanceof Error ? tags.message : 'not asked'}); write the policy by hand or pass --tags-file`,
          }
        : image.tag
          ? inferPolicy(image.repository, image.tag, tags)
          : {
              scheme: 'none',
              confidence: 'low',
              evidence: `${image.repository} is pinned by digest only; write the policy by hand`,
            };
    inferences.set(image, inference);
    return inference;
  };

  const configFile = (await reader.read({ accept: (rel) => rel === CONFIG_PATH }))[0];
  const proposal = propose({
    images: detection.images,
    infer,
    existingPolicies: new Map(loaded.config.policies.map((p) => [p.image, policyKey(p)])),
    existingNames: new Set(loaded.config.policies.map((p) => p.name)),
    namespace: loaded.config.defaultNamespace,
    configText: configFile?.text ?? '',
    files: new Map(files.map((f) => [f.path, f.text])),
  });

  const changes = [
    ...(proposal.config ? [{ file: CONFIG_PATH, ...proposal.config, changes: [] }] : []),
    ...proposal.files,
  ];
  if (values.json) {
    io.stdout(
      `${JSON.stringify(
        {
          images: proposal.proposals.map((p) => ({
            file: p.image.file,
            line: p.image.line,
            path: p.image.path,
            image: p.image.repository,
            tag: p.image.tag,
            key: p.key,
            existing: p.existing,
            scheme: p.inference.scheme,
            policy: p.inference.policy,
            filterTags: p.inference.filterTags,
            digestReflectionPolicy: p.inference.digestReflectionPolicy,
            picks: p.inference.picks,
            confidence: p.inference.confidence,
            evidence: p.inference.evidence,
          })),
          notes: detection.notes,
          changes: changes.map((c) => ({ file: c.file })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    for (const p of proposal.proposals)
      io.stderr(
        `${p.image.file}:${p.image.line}: ${p.image.repository}:${p.image.tag ?? p.image.digest ?? ''} → ${p.inference.policy ? `${p.key}, ${p.inference.scheme}, picks ${p.inference.picks ?? '?'} (${p.inference.confidence})` : 'no policy inferred'}: ${p.inference.evidence}\n`,
      );
    io.stdout(formatUnifiedDiff(changes));
  }
  if (values.write && changes.length > 0) {
    try {
      if (proposal.config) await mkdir(dirname(resolve(dir, CONFIG_PATH)), { recursive: true });
      if (proposal.config && !configFile) await writeFile(resolve(dir, CONFIG_PATH), '', { flag: 'wx' });
      await applyFileChanges(dir, changes);
    } catch (err) {
      if (err instanceof ConfigError) {
        io.stderr(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
  }
  return 0;
};
