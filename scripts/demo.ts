/**
 * `npm run demo`: the whole flow on this machine, no GitHub account needed. It starts a CNCF Distribution
 * registry, the GitHub double (real git over HTTP, GitHub's API checked against its OpenAPI description) and
 * tidemark; pushes a new image tag; and prints the pull request tidemark opened.
 */
import { startEnv, until } from '../test/e2e/harness.js';
import { pushImage } from '../test/support/images.js';

const say = (s: string) => process.stdout.write(`${s}\n`);

const env = await startEnv(async (gh, reg) => {
  say(`registry     ${reg.url}`);
  say(`GitHub       ${gh.url} (a stand-in)`);
  await pushImage(reg, 'acme/web', '1.0.0', {
    seed: 'demo-1.0.0',
    annotations: {
      'org.opencontainers.image.source': 'https://github.com/acme/web',
      'org.opencontainers.image.revision': 'a1b2c3d',
    },
  });
  const inst = gh.addInstallation('acme');
  await gh.addRepo({
    installationId: inst,
    owner: 'acme',
    name: 'config',
    files: {
      'apps/web/deployment.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${reg.host}/acme/web:1.0.0 # {"$imagepolicy": "flux-system:web"}\n`,
      '.github/tidemark.yml': `policies:\n  - name: web\n    image: ${reg.host}/acme/web\n    policy: { semver: { range: "^1.0.0" } }\n`,
    },
  });
  say('repo         acme/config: apps/web/deployment.yaml runs acme/web:1.0.0, policy ^1.0.0');
});
try {
  say(`tidemark     ${env.app.url}`);
  const started = Date.now();
  say('\npushing acme/web:1.1.0 to the registry …');
  await pushImage(env.reg, 'acme/web', '1.1.0', {
    seed: 'demo-1.1.0',
    annotations: {
      'org.opencontainers.image.source': 'https://github.com/acme/web',
      'org.opencontainers.image.revision': 'b2c3d4e',
    },
  });
  const pr = await until('the pull request', () => env.gh.pulls('acme', 'config')[0], 30_000);
  const file = await env.gh.readFile('acme', 'config', pr.head.ref, 'apps/web/deployment.yaml');
  say(`\npull request #${pr.number} opened ${Date.now() - started} ms after the push`);
  say(`title:  ${pr.title}`);
  say(`branch: ${pr.head.ref} → ${pr.base.ref}\n`);
  say(pr.body);
  say('\napps/web/deployment.yaml on the PR branch:\n');
  say(file ?? '(missing)');
  env.gh.assertNoValidationErrors();
} finally {
  await env.stop();
}
