import { describe, expect, it } from 'vitest';
import {
  CLOUD_IDENTITY_OFF,
  type CloudIdentitySettings,
  declarationsThatMatter,
  declaredProvidersByHost,
  ecrRegionOf,
  providerOfHost,
  readCloudIdentityEnv,
  selectCloudProvider,
} from '../../../src/registry/cloud/select.js';

describe('providerOfHost', () => {
  it.each([
    ['contosoprod.azurecr.io', 'azure'],
    ['contoso.azurecr.us', 'azure'],
    ['contoso.azurecr.cn', 'azure'],
    ['gcr.io', 'gcp'],
    ['eu.gcr.io', 'gcp'],
    ['europe-west1-docker.pkg.dev', 'gcp'],
    ['us-docker.pkg.dev', 'gcp'],
    ['111122223333.dkr.ecr.eu-central-1.amazonaws.com', 'aws'],
    ['111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com', 'aws'],
    ['111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn', 'aws'],
    ['ghcr.io', undefined],
    ['docker.io', undefined],
    ['azurecr.io', undefined],
    ['evil.com', undefined],
    ['contoso.azurecr.io.evil.com', undefined],
    ['gcr.io.evil.com', undefined],
    ['docker.pkg.dev', undefined],
    ['111122223333.dkr.ecr.eu-central-1.amazonaws.com.evil.com', undefined],
    ['public.ecr.aws', undefined],
    ['127.0.0.1:5000', undefined],
  ])('%s → %s', (host, provider) => {
    expect(providerOfHost(host)).toBe(provider);
  });

  it('reads the region of an ECR host', () => {
    expect(ecrRegionOf('111122223333.dkr.ecr.eu-central-1.amazonaws.com')).toBe('eu-central-1');
    expect(ecrRegionOf('gcr.io')).toBeUndefined();
  });
});

describe('selectCloudProvider', () => {
  const all: CloudIdentitySettings = {
    providers: ['azure', 'gcp', 'aws'],
    hosts: { 'registry.contoso.com': 'azure' },
  };
  const acr = 'contosoprod.azurecr.io';
  it.each([
    ['off: never', acr, CLOUD_IDENTITY_OFF, undefined, undefined],
    ['by host name when enabled', acr, all, undefined, 'azure'],
    ['a declared provider that matches', acr, all, 'azure', 'azure'],
    ['declared generic keeps cloud identity off', acr, all, 'generic', undefined],
    ['a declared provider other than the host cloud', acr, all, 'aws', undefined],
    [
      'a declared provider cannot send tokens to a host of the repo choosing',
      'evil.com',
      all,
      'azure',
      undefined,
    ],
    ['a host the operator lists', 'registry.contoso.com', all, undefined, 'azure'],
    ['a provider the operator did not enable', acr, { providers: ['gcp'], hosts: {} }, 'azure', undefined],
    ['another registry', 'ghcr.io', all, undefined, undefined],
  ] as const)('%s', (_what, host, settings, declared, expected) => {
    const s = selectCloudProvider(host, settings, declared);
    expect(s.kind === 'cloud' ? s.provider : undefined).toBe(expected);
    if (s.kind === 'none') expect(s.reason).not.toBe('');
  });
});

describe('readCloudIdentityEnv', () => {
  it('is off by default', () => {
    expect(readCloudIdentityEnv({})).toEqual({ settings: CLOUD_IDENTITY_OFF, problems: [] });
    expect(readCloudIdentityEnv({ TIDEMARK_CLOUD_IDENTITY: 'off' }).settings).toEqual(CLOUD_IDENTITY_OFF);
  });

  it('reads providers and hosts', () => {
    expect(
      readCloudIdentityEnv({
        TIDEMARK_CLOUD_IDENTITY: ' Azure, aws ,aws',
        TIDEMARK_CLOUD_IDENTITY_HOSTS: 'Registry.Contoso.com=azure, 10.0.0.5:5000=aws',
      }),
    ).toEqual({
      settings: {
        providers: ['azure', 'aws'],
        hosts: { 'registry.contoso.com': 'azure', '10.0.0.5:5000': 'aws' },
      },
      problems: [],
    });
  });

  it('lists every problem', () => {
    const { problems } = readCloudIdentityEnv({
      TIDEMARK_CLOUD_IDENTITY: 'azure,ibm',
      TIDEMARK_CLOUD_IDENTITY_HOSTS: 'registry.contoso.com=gcp,nonsense',
    });
    expect(problems).toEqual([
      'TIDEMARK_CLOUD_IDENTITY: "ibm" is not a provider; expected a list of azure, gcp, aws (or off)',
      'TIDEMARK_CLOUD_IDENTITY_HOSTS: registry.contoso.com=gcp, but TIDEMARK_CLOUD_IDENTITY does not enable gcp; add it there',
      'TIDEMARK_CLOUD_IDENTITY_HOSTS: expected host=azure|gcp|aws,… (e.g. registry.contoso.com=azure), got "nonsense"',
    ]);
  });
});

describe('declaredProvidersByHost', () => {
  it('takes each host’s declared provider; two different ones make it generic', () => {
    expect(
      declaredProvidersByHost([
        { host: 'a.azurecr.io', provider: 'azure' },
        { host: 'a.azurecr.io', provider: 'azure' },
        { host: 'gcr.io' },
        { host: 'b.azurecr.io', provider: 'azure' },
        { host: 'b.azurecr.io', provider: 'generic' },
      ]),
    ).toEqual({ 'a.azurecr.io': 'azure', 'b.azurecr.io': 'generic' });
  });
});

describe('declarationsThatMatter', () => {
  it('keeps only declarations that change what a host gets', () => {
    const settings: CloudIdentitySettings = { providers: ['azure'], hosts: {} };
    expect(
      declarationsThatMatter(
        { 'a.azurecr.io': 'azure', 'b.azurecr.io': 'generic', 'gcr.io': 'gcp', 'evil.com': 'azure' },
        settings,
      ),
    ).toEqual({ 'b.azurecr.io': 'generic' });
  });
});
