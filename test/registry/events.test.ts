import { describe, expect, it } from 'vitest';
import { REGISTRY_PROVIDERS, type RegistryProvider } from '../../src/core/domain/types.js';
import { MalformedWebhookError, parsePurl, parseWebhook } from '../../src/core/events/index.js';
import { bodyOf, FIXTURE_HOST_MAP, loadFixture, loadFixtures } from './fixtures.js';

const fixtures = loadFixtures();
const COSIGN = `sha256-${'ab'.repeat(32)}.sig`;
const DIGEST = `sha256:${'cd'.repeat(32)}`;

/** The fixture's body with `mutate` applied; headers from the fixture unless given. */
function variant(
  file: string,
  // biome-ignore lint/suspicious/noExplicitAny: variants reach into fixture bodies freely
  mutate: (b: any) => void,
  headers?: Record<string, string>,
): { provider: RegistryProvider; headers: Record<string, string>; body: string } {
  const fx = loadFixture(file);
  const b = bodyOf(file);
  mutate(b);
  return { provider: fx.provider, headers: headers ?? fx.headers, body: JSON.stringify(b) };
}

function parse(v: { provider: RegistryProvider; headers: Record<string, string>; body: string }) {
  return parseWebhook(v.provider, { headers: v.headers, body: v.body }, { hostMap: FIXTURE_HOST_MAP });
}

function gar(inner: unknown): string {
  return JSON.stringify({
    message: { data: Buffer.from(JSON.stringify(inner)).toString('base64') },
    subscription: 's',
  });
}

describe('every fixture parses to its expect', () => {
  it('covers every provider', () => {
    expect(new Set(fixtures.map((f) => f.provider))).toEqual(new Set(REGISTRY_PROVIDERS));
  });

  it.each(fixtures.map((f) => [f.file, f] as const))('%s', (_file, fx) => {
    const got = parseWebhook(
      fx.provider,
      { headers: fx.headers, body: fx.body },
      { hostMap: FIXTURE_HOST_MAP },
    );
    expect(got).toEqual(fx.expect.map((e) => ({ ...e, provider: fx.provider })));
  });
});

describe('deliveries acknowledged and ignored', () => {
  const cases: [string, ReturnType<typeof variant>][] = [
    ['dockerhub: empty tag', variant('dockerhub.json', (b) => (b.push_data.tag = ''))],
    ['dockerhub: cosign signature tag', variant('dockerhub.json', (b) => (b.push_data.tag = COSIGN))],
    [
      'distribution: tag delete (carries a tag)',
      variant('distribution.json', (b) => (b.events[1].action = 'delete')),
    ],
    ['distribution: mount', variant('distribution.json', (b) => (b.events[1].action = 'mount'))],
    [
      'distribution: digest-only manifest push',
      variant('distribution.json', (b) => delete b.events[1].target.tag),
    ],
    ['distribution: empty envelope', variant('distribution.json', (b) => (b.events = []))],
    [
      'distribution: cosign attestation tag',
      variant('distribution.json', (b) => (b.events[1].target.tag = `sha256-${'ab'.repeat(32)}.att`)),
    ],
    ['harbor: pull', variant('harbor.json', (b) => (b.type = 'PULL_ARTIFACT'))],
    ['harbor: delete', variant('harbor.json', (b) => (b.type = 'DELETE_ARTIFACT'))],
    ['harbor: scan completed', variant('harbor.json', (b) => (b.type = 'SCANNING_COMPLETED'))],
    ['harbor: quota', variant('harbor.json', (b) => (b.type = 'QUOTA_EXCEED'))],
    [
      'harbor: untagged artifact (tag is the digest)',
      variant('harbor.json', (b) => {
        const r = b.event_data.resources[0];
        r.tag = r.digest;
        r.resource_url = `harbor.example.com/payments/ledger@${r.digest}`;
      }),
    ],
    [
      'harbor cloudevents: pulled',
      variant('harbor-cloudevents.json', (b) => (b.type = 'harbor.artifact.pulled')),
    ],
    [
      'quay: build notification',
      {
        provider: 'quay',
        headers: {},
        body: JSON.stringify({ repository: 'a/b', build_id: 'x', docker_tags: ['latest'] }),
      },
    ],
    ['quay: no updated tags', variant('quay.json', (b) => (b.updated_tags = []))],
    ['acr: ping', variant('acr.json', (b) => (b.action = 'ping'))],
    ['acr: delete', variant('acr.json', (b) => (b.action = 'delete'))],
    ['acr: chart_push', variant('acr.json', (b) => (b.action = 'chart_push'))],
    ['acr: quarantine', variant('acr.json', (b) => (b.action = 'quarantine'))],
    ['acr: digest-only push', variant('acr.json', (b) => (b.target.tag = ''))],
    [
      'gar: delete',
      { provider: 'gar', headers: {}, body: gar({ action: 'DELETE', tag: 'us-docker.pkg.dev/p/r/i:1.0' }) },
    ],
    [
      'gar: untagged insert',
      {
        provider: 'gar',
        headers: {},
        body: gar({ action: 'INSERT', digest: `us-docker.pkg.dev/p/r/i@${DIGEST}` }),
      },
    ],
    ['ecr: delete with a tag', variant('negative-delete-ecr.json', () => {})],
    ['ecr: failed push', variant('ecr-eventbridge.json', (b) => (b.detail.result = 'FAILURE'))],
    ['ecr: scan', variant('ecr-eventbridge.json', (b) => (b['detail-type'] = 'ECR Image Scan'))],
    ['ecr: untagged push', variant('ecr-eventbridge.json', (b) => delete b.detail['image-tag'])],
    ['jfrog: deleted', variant('jfrog.json', (b) => (b.event_type = 'deleted'))],
    ['jfrog: promoted', variant('jfrog.json', (b) => (b.event_type = 'promoted'))],
    ['jfrog: remote-cache fill', variant('jfrog.json', (b) => (b.data.repo_key = 'docker-remote-cache'))],
    ['jfrog: other domain', variant('jfrog.json', (b) => (b.domain = 'artifact'))],
    ['nexus: deleted', variant('nexus.json', (b) => (b.action = 'DELETED'))],
    ['nexus: maven component', variant('nexus.json', (b) => (b.component.format = 'maven2'))],
    ['nexus: asset event', variant('nexus.json', () => {}, { 'x-nexus-webhook-id': 'rm:repository:asset' })],
    ['github: ping', variant('github-registry-package.json', () => {}, { 'x-github-event': 'ping' })],
    ['github: digest-only version', variant('negative-digest-only-ghcr.json', () => {})],
    ['github: npm package', variant('github-package.json', (b) => (b.package.package_type = 'npm'))],
    ['github: other action', variant('github-package.json', (b) => (b.action = 'deleted'))],
    ['gitea: deleted', variant('gitea.json', (b) => (b.action = 'deleted'))],
    ['gitea: npm package', variant('gitea.json', (b) => (b.package.type = 'npm'))],
    ['gitea: digest version', variant('gitea.json', (b) => (b.package.version = DIGEST))],
    ['gitea: push event', variant('gitea.json', () => {}, { 'x-gitea-event': 'push' })],
    [
      'cdevents: other type',
      variant('cdevents.json', () => {}, { 'ce-type': 'dev.cdevents.build.finished.0.1.1' }),
    ],
    ['cdevents: npm purl', variant('cdevents.json', (b) => (b.subject.id = 'pkg:npm/left-pad@1.3.0'))],
    [
      'cdevents: digest only',
      variant(
        'cdevents.json',
        (b) => (b.subject.id = `pkg:oci/x@sha256%3A${'cd'.repeat(32)}?repository_url=r.example.com/x`),
      ),
    ],
  ];
  it.each(cases)('%s', (_name, v) => {
    expect(parse(v)).toEqual([]);
  });
});

describe('format variants', () => {
  it('harbor 1.x pushImage', () => {
    const v = variant('harbor.json', (b) => (b.type = 'pushImage'));
    expect(parse(v)).toEqual([
      {
        image: 'harbor.example.com/payments/ledger',
        tag: '3.1.0',
        digest: expect.stringMatching(/^sha256:/),
        provider: 'harbor',
      },
    ]);
  });

  it('gar with payload unwrapping (the body is the message)', () => {
    const body = JSON.stringify({
      action: 'INSERT',
      digest: `gcr.io/proj/app@${DIGEST}`,
      tag: 'gcr.io/proj/app:1.0',
    });
    expect(parseWebhook('gar', { headers: {}, body })).toEqual([
      { image: 'gcr.io/proj/app', tag: '1.0', digest: DIGEST, provider: 'gar' },
    ]);
  });

  it('cdevents in structured mode', () => {
    const fx = loadFixture('cdevents.json');
    const body = JSON.stringify({
      specversion: '1.0',
      type: 'dev.cdevents.artifact.published.0.3.0',
      id: '1',
      source: '/ci',
      data: JSON.parse(fx.body),
    });
    expect(
      parseWebhook('cdevents', { headers: { 'content-type': 'application/cloudevents+json' }, body }),
    ).toEqual(fx.expect.map((e) => ({ ...e, provider: 'cdevents' })));
  });

  it('cdevents without ce headers reads context.type', () => {
    const fx = loadFixture('cdevents.json');
    expect(parseWebhook('cdevents', { headers: {}, body: fx.body })).toHaveLength(1);
  });

  it('distribution maps request.host through hostMap', () => {
    const fx = loadFixture('distribution-captured.json');
    const got = parseWebhook('distribution', fx, { hostMap: { '127.0.0.1:5077': 'registry.acme.dev' } });
    expect(got.map((e) => e.image)).toEqual(['registry.acme.dev/demo/app']);
  });

  it('jfrog hostMap replaces <host>/<repo_key> (subdomain method)', () => {
    const fx = loadFixture('jfrog.json');
    const got = parseWebhook('jfrog', fx, { hostMap: { 'docker-local': 'docker-local.acme.jfrog.io' } });
    expect(got.map((e) => e.image)).toEqual(['docker-local.acme.jfrog.io/acme/api']);
  });

  it('distribution request.host with a port, and a dot-less host mapped to a public name', () => {
    const withPort = variant('distribution.json', (b) => (b.events[1].request.host = 'registry:5000'));
    expect(parse(withPort).map((e) => e.image)).toEqual(['registry:5000/platform/api']);
    const bare = variant('distribution.json', (b) => (b.events[1].request.host = 'registry'));
    expect(
      parseWebhook('distribution', bare, { hostMap: { registry: 'registry.acme.dev' } }).map((e) => e.image),
    ).toEqual(['registry.acme.dev/platform/api']);
  });

  it('docker hub short names expand to library', () => {
    const v = variant('dockerhub.json', (b) => (b.repository.repo_name = 'nginx'));
    expect(parse(v).map((e) => e.image)).toEqual(['docker.io/library/nginx']);
  });

  it('header names are matched case-insensitively', () => {
    const fx = loadFixture('github-package.json');
    expect(parseWebhook('github', { headers: { 'X-GitHub-Event': 'package' }, body: fx.body })).toHaveLength(
      1,
    );
  });

  it('a gitea delivery (which also sends X-GitHub-Event) is parsed by the provider of the URL', () => {
    const fx = loadFixture('gitea.json');
    expect(fx.headers['x-github-event']).toBe('package');
    // Through a github endpoint it is no GHCR push (action "created"); through a gitea endpoint it is.
    expect(parseWebhook('github', fx)).toEqual([]);
    expect(parseWebhook('gitea', fx)).toHaveLength(1);
  });
});

describe('malformed bodies name the field', () => {
  const cases: [string, RegistryProvider, string, RegExp][] = [
    ['not JSON', 'dockerhub', '{', /^body: not valid JSON/],
    ['a JSON array', 'harbor', '[]', /^body: expected a JSON object, got an array/],
    [
      'distribution repository not a string',
      'distribution',
      variant('distribution.json', (b) => (b.events[1].target.repository = 7)).body,
      /^events\[1\]\.target\.repository: expected a string, got number/,
    ],
    ['distribution without events', 'distribution', '{}', /^events: expected an array/],
    [
      'dockerhub without repository',
      'dockerhub',
      '{"push_data":{"tag":"1"}}',
      /^repository: expected an object/,
    ],
    [
      'dockerhub invalid tag',
      'dockerhub',
      variant('dockerhub.json', (b) => (b.push_data.tag = 'bad tag!')).body,
      /^push_data\.tag: "bad tag!" is not a valid tag/,
    ],
    [
      'harbor resource_url missing',
      'harbor',
      variant('harbor.json', (b) => delete b.event_data.resources[0].resource_url).body,
      /^event_data\.resources\[0\]\.resource_url: expected a string/,
    ],
    ['quay repo_push without tags', 'quay', '{"repository":"a/b"}', /^updated_tags: expected an array/],
    [
      'acr invalid repository',
      'acr',
      variant('acr.json', (b) => (b.target.repository = 'Bad Repo')).body,
      /^target\.repository: /,
    ],
    ['gar data not base64', 'gar', '{"message":{"data":"%%%"}}', /^message\.data: expected base64/],
    [
      'gar data not JSON',
      'gar',
      JSON.stringify({ message: { data: Buffer.from('nope').toString('base64') } }),
      /^message\.data: decoded data not valid JSON/,
    ],
    [
      'gar neither envelope nor message',
      'gar',
      '{"subscription":"x"}',
      /^message: expected a Pub\/Sub push envelope/,
    ],
    [
      'ecr bad account',
      'ecr',
      variant('ecr-eventbridge.json', (b) => (b.account = 'abc')).body,
      /^account: expected a 12-digit AWS account id/,
    ],
    [
      'ecr bad digest',
      'ecr',
      variant('ecr-eventbridge.json', (b) => (b.detail['image-digest'] = 'md5')).body,
      /^detail\.image-digest: "md5" is not a digest/,
    ],
    [
      'jfrog bad sha256',
      'jfrog',
      variant('jfrog.json', (b) => (b.data.sha256 = 'xyz')).body,
      /^data\.sha256: expected 64 hex/,
    ],
    [
      'nexus unmapped repository',
      'nexus',
      variant('nexus.json', (b) => (b.repositoryName = 'other')).body,
      /^repositoryName: no registry host configured for Nexus repository "other"/,
    ],
    [
      'github without owner',
      'github',
      variant('github-package.json', (b) => delete b.package.owner).body,
      /^package\.owner: expected an object/,
    ],
    [
      'gitea bad html_url',
      'gitea',
      variant('gitea.json', (b) => (b.package.html_url = 'not a url')).body,
      /^package\.html_url: expected a URL/,
    ],
    [
      'cdevents not a purl',
      'cdevents',
      variant('cdevents.json', (b) => (b.subject.id = 'oci://x')).body,
      /^subject\.id: "oci:\/\/x" is not a package URL/,
    ],
    [
      'distribution request.host with a path',
      'distribution',
      variant('distribution.json', (b) => (b.events[1].request.host = 'evil.example.com/x')).body,
      /^events\[1\]\.request\.host: "evil\.example\.com\/x" is not a registry host/,
    ],
    [
      'distribution dot-less request.host',
      'distribution',
      variant('distribution.json', (b) => (b.events[1].request.host = 'registry')).body,
      /^events\[1\]\.request\.host: host "registry" has no dot or port.*hostMap/,
    ],
    [
      'acr repository smuggling a host',
      'acr',
      variant('acr.json', (b) => (b.target.repository = '../evil')).body,
      /^target\.repository: /,
    ],
    [
      'quay docker_url with a bad host',
      'quay',
      variant('quay.json', (b) => (b.docker_url = 'qu!ay.io/a/b')).body,
      /^docker_url: /,
    ],
    [
      'cdevents purl without repository_url',
      'cdevents',
      variant('cdevents.json', (b) => (b.subject.id = 'pkg:oci/x@sha256%3Aab?tag=1')).body,
      /^subject\.id: OCI purl has no repository_url/,
    ],
  ];
  it.each(cases)('%s', (_name, provider, body, message) => {
    const headers =
      provider === 'cdevents'
        ? loadFixture('cdevents.json').headers
        : provider === 'github'
          ? { 'x-github-event': 'package' }
          : {};
    let thrown: unknown;
    try {
      parseWebhook(
        provider,
        { headers: provider === 'cdevents' ? { ...headers, 'ce-subject': '' } : headers, body },
        { hostMap: FIXTURE_HOST_MAP },
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MalformedWebhookError);
    expect((thrown as Error).message).toMatch(message);
  });

  it('an unknown provider is malformed, not a crash', () => {
    expect(() => parseWebhook('zot' as RegistryProvider, { headers: {}, body: '{}' })).toThrow(
      /unknown registry provider "zot"/,
    );
  });
});

describe('parsePurl', () => {
  it.each([
    [
      'pkg:oci/search@sha256%3Aabc?repository_url=registry.example.com/platform/search&tag=7.3.0',
      {
        type: 'oci',
        name: 'search',
        version: 'sha256:abc',
        qualifiers: { repository_url: 'registry.example.com/platform/search', tag: '7.3.0' },
      },
    ],
    [
      'pkg:docker/acme/web@1.0',
      { type: 'docker', namespace: 'acme', name: 'web', version: '1.0', qualifiers: {} },
    ],
    [
      'pkg:npm/%40scope/pkg@1.0.0#lib',
      { type: 'npm', namespace: '@scope', name: 'pkg', version: '1.0.0', qualifiers: {}, subpath: 'lib' },
    ],
  ])('%s', (input, want) => {
    expect(parsePurl(input)).toEqual(want);
  });

  it('rejects a string without the pkg scheme', () => {
    expect(() => parsePurl('oci/x')).toThrow(/not a package URL/);
  });
});
