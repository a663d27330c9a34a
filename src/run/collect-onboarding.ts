/**
 * Collect what onboarding needs — every YAML and template file of the checkout, the tags of each image found —
 * and hand it to the pure proposal (`core/onboarding/`). `tidemark init` and the App's onboarding PR both come
 * through here, so they propose the same thing.
 */
import type { LoadedConfig } from '../core/config/repo-config.js';
import type { Warning } from '../core/domain/types.js';
import { type DetectedImage, detectImages } from '../core/onboarding/detect.js';
import { type Inference, inferPolicy } from '../core/onboarding/infer.js';
import { CONFIG_PATH, type Proposal, propose } from '../core/onboarding/propose.js';
import { policyKey } from '../core/policy/types.js';
import type { RegistryClient } from '../registry/types.js';
import type { CheckoutReader } from '../workspace/checkout.js';

const YAML_FILE = /\.(ya?ml|gotmpl)$|(^|\/)Kustomization$/;

export interface OnboardingFacts {
  readonly proposal: Proposal;
  /** Values left alone (templates, lines with comments), with file and line. */
  readonly notes: readonly Warning[];
  /** Number of image references found (0: nothing to propose). */
  readonly found: number;
}

export async function collectOnboarding(
  reader: CheckoutReader,
  loaded: LoadedConfig,
  registry: Pick<RegistryClient, 'listTags'>,
): Promise<OnboardingFacts> {
  const files = (
    await reader.read({ accept: (rel) => YAML_FILE.test(rel) && !rel.startsWith('.github/') })
  ).map((f) => ({ path: f.path, text: f.text }));
  const detection = detectImages(
    files,
    loaded.fluxSources.filter((x) => x.kind === 'HelmRepository'),
  );
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
  return { proposal, notes: detection.notes, found: detection.images.length };
}
