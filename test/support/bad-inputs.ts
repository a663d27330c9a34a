/**
 * Bad inputs, one table for every surface that reads a repo: `tidemark plan` (test/cli/bad-inputs.test.ts) and
 * the App's check run (test/e2e/bad-inputs-app.test.ts). Each case names the message (file, line, field, what
 * to write instead), the files that must be left alone, and the files the rest of the run still changes.
 */
export const TAGS = { 'ghcr.io/acme/web': ['1.0.0', '1.1.0', 'main-1700000000'] };
export const POLICY = (extra = '') =>
  `policies:\n  - name: web\n    image: ghcr.io/acme/web\n    policy: { semver: { range: "^1.0.0" } }\n${extra}`;
export const MARKED = 'image: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n';
const FLUX = (specExtra: string) => `apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata: { name: web, namespace: flux-system }
spec:
  image: ghcr.io/acme/web
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: { name: web, namespace: flux-system }
spec:
  imageRepositoryRef: { name: web }
  policy: { semver: { range: "^1.0.0" } }
${specExtra}`;

const BOMB = [
  'a: &a [x, x, x, x, x, x, x, x, x, x]',
  ...Array.from(
    { length: 11 },
    (_, i) =>
      `b${i + 1}: &b${i + 1} [${Array(10)
        .fill(i === 0 ? '*a' : `*b${i}`)
        .join(', ')}]`,
  ),
  'policies: []',
  '',
].join('\n');

export interface Case {
  readonly files: Record<string, string>;
  readonly exit: number;
  /** Every one must appear in what tidemark printed. */
  readonly says: readonly (string | RegExp)[];
  /** Files that must be left exactly as they were by `--write`. */
  readonly untouched: readonly string[];
  /** Files `--write` must still change (the rest of the repo proceeds). */
  readonly changed?: readonly string[];
}

export const CASES: Record<string, Case> = {
  'a typo in a Flux ImagePolicy': {
    files: {
      'flux/policy.yaml': FLUX('  filtertags: { pattern: "^(?P<v>.*)$", extract: "$v" }\n'),
      'a.yaml': MARKED,
    },
    exit: 2,
    says: [
      'flux/policy.yaml:13: ImagePolicy flux-system/web spec.filtertags: unknown field; did you mean "filterTags"?',
    ],
    untouched: ['a.yaml'],
  },
  'a typo in a Flux ImageRepository': {
    files: {
      'flux/policy.yaml': FLUX('').replace(
        '  image: ghcr.io/acme/web\n',
        '  image: ghcr.io/acme/web\n  exclusionlist: ["^x"]\n',
      ),
      'a.yaml': MARKED,
    },
    exit: 2,
    says: [
      'flux/policy.yaml:6: ImageRepository flux-system/web spec.exclusionlist: unknown field; did you mean "exclusionList"?',
    ],
    untouched: ['a.yaml'],
  },
  'extract naming a group the pattern lacks': {
    files: {
      '.github/tidemark.yml': POLICY().replace(
        '    policy:',
        '    filterTags: { pattern: "^main-(?P<ts>[0-9]+)$", extract: "$num" }\n    policy:',
      ),
      'a.yaml': MARKED,
    },
    exit: 2,
    says: [
      /\.github\/tidemark\.yml:4: policies\[0\]\.filterTags\.extract: \$num names no group of the pattern .*use \$1, \$ts/,
    ],
    untouched: ['a.yaml'],
  },
  'several policy kinds in tidemark.yml': {
    files: {
      '.github/tidemark.yml': POLICY().replace(
        'policy: { semver: { range: "^1.0.0" } }',
        'policy: { semver: { range: "^1.0.0" }, numerical: {} }',
      ),
      'a.yaml': MARKED,
    },
    exit: 2,
    says: ['.github/tidemark.yml:4: policies[0].policy: set exactly one of semver, alphabetical, numerical'],
    untouched: ['a.yaml'],
  },
  'broken YAML in a marked file': {
    files: {
      '.github/tidemark.yml': POLICY(),
      'broken.yaml': `ok: 1\nlist: [unclosed\n${MARKED}`,
      'good.yaml': MARKED,
    },
    exit: 0,
    says: [/broken\.yaml:\d+: not valid YAML \(.+\); its markers are left alone until the file parses/],
    untouched: ['broken.yaml'],
    changed: ['good.yaml'],
  },
  'a marker naming a policy that does not exist': {
    files: {
      '.github/tidemark.yml': POLICY(),
      'a.yaml': 'image: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:wbe"}\n',
      'b.yaml': MARKED,
    },
    exit: 0,
    says: [
      'a.yaml:1: marker "flux-system:wbe" names policy flux-system:wbe, which is not defined; did you mean "flux-system:web"?',
    ],
    untouched: ['a.yaml'],
    changed: ['b.yaml'],
  },
  'a comment that is almost a marker (single quotes, :tags)': {
    files: {
      '.github/tidemark.yml': POLICY(),
      'a.yaml': `old: ghcr.io/acme/web:1.0.0 # {'$imagepolicy': 'flux-system:web'}\ntag: 1.0.0 # {"$imagepolicy": "flux-system:web:tags"}\n${MARKED}`,
    },
    exit: 0,
    says: [
      /a\.yaml:1: this comment mentions \$imagepolicy but is not a marker Flux reads .*write # \{"\$imagepolicy": "<namespace>:<policy>"\}/,
      /a\.yaml:2: this comment mentions \$imagepolicy but is not a marker Flux reads/,
    ],
    untouched: [],
    changed: ['a.yaml'],
  },
  'gotmpl markers it cannot apply (a template value, a marker on the line above)': {
    files: {
      '.github/tidemark.yml': POLICY(),
      'values.yaml.gotmpl': `image: {{ .Values.image }} # {"$imagepolicy": "flux-system:web"}\n# {"$imagepolicy": "flux-system:web:tag"}\ntag: 1.0.0\nother: ghcr.io/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
    },
    exit: 0,
    says: [
      'values.yaml.gotmpl:1: the value is a template expression ({{ … }}), which tidemark leaves alone',
      'values.yaml.gotmpl:2: in a template the marker must follow its value on the same line',
    ],
    untouched: [],
    changed: ['values.yaml.gotmpl'],
  },
  'a marked file outside update.path': {
    files: {
      '.github/tidemark.yml': POLICY('update: { path: ./clusters/prod }\n'),
      'clusters/prod/a.yaml': MARKED,
      'clusters/staging/a.yaml': MARKED,
    },
    exit: 0,
    says: [
      'clusters/staging/a.yaml: has $imagepolicy markers but is outside update.path "./clusters/prod", so it is never updated',
    ],
    untouched: ['clusters/staging/a.yaml'],
    changed: ['clusters/prod/a.yaml'],
  },
  'a marker under no ImageUpdateAutomation path (every automation counts)': {
    files: {
      '.github/tidemark.yml': POLICY(),
      'one/a.yaml': MARKED,
      'three/a.yaml': MARKED,
      'flux/autos.yaml':
        'apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: { name: one, namespace: flux-system }\nspec: { update: { path: ./one } }\n---\napiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: { name: two, namespace: flux-system }\nspec: { update: { path: ./two } }\n',
    },
    exit: 0,
    says: [
      'three/a.yaml:1: marker for flux-system:web is outside the path of every automation that selects that policy (flux-system/one: ./one, flux-system/two: ./two), so it is not updated',
    ],
    untouched: ['three/a.yaml'],
    changed: ['one/a.yaml'],
  },
  'a typo inside an ImageUpdateAutomation': {
    files: {
      '.github/tidemark.yml': POLICY(),
      'a.yaml': MARKED,
      'flux/auto.yaml':
        'apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: { name: auto, namespace: flux-system }\nspec:\n  git:\n    pussh: { branch: image-updates }\n  update: { paht: ./clusters }\n',
    },
    exit: 2,
    says: [
      'flux/auto.yaml:6: ImageUpdateAutomation flux-system/auto spec.git.pussh: unknown field; did you mean "push"?',
      'flux/auto.yaml:7: ImageUpdateAutomation flux-system/auto spec.update.paht: unknown field; did you mean "path"?',
    ],
    untouched: ['a.yaml'],
  },
  'an alias bomb in .github/tidemark.yml': {
    files: { '.github/tidemark.yml': BOMB, 'a.yaml': MARKED },
    exit: 2,
    says: [/\.github\/tidemark\.yml:1: cannot be read: Excessive alias count .*write the values out/],
    untouched: ['a.yaml'],
  },
  'a policy no marker uses': {
    files: { '.github/tidemark.yml': POLICY(), 'a.yaml': 'image: ghcr.io/acme/web:1.0.0\n' },
    exit: 0,
    says: [
      'flux-system:web: no marker under update.path "." uses this policy, so it changes nothing',
      'flux-system:web 1.1.0 (no marker uses this policy: nothing to update)',
    ],
    untouched: ['a.yaml'],
  },
};
