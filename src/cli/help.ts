/**
 * Every command's `--help` text, in a module that imports nothing: `tidemark <command> --help` prints it
 * without loading the command (the registry clients, the YAML parser, Redis, Octokit), so it costs about what
 * Node.js itself costs to start.
 */

export const SERVE_HELP = `Usage: tidemark serve

Starts the GitHub App (configuration from the environment and from ./.env, which the setup page writes;
variables already set in the environment win; see README "Configuration").
Without APP_ID and PRIVATE_KEY it serves the setup page at http://localhost:$PORT/probot, which registers
the GitHub App from app.yml (webhook URL: $PUBLIC_URL/api/github/webhooks, else $WEBHOOK_PROXY_URL, else the
address the page was opened at), writes the credentials to ./.env, and starts the App.
`;

export const WORKER_HELP = `Usage: tidemark worker

Runs a worker process: takes reconcile jobs from Redis (REDIS_URL is required) and serves only /healthz,
/readyz and /metrics. Webhooks go to \`tidemark serve\` (TIDEMARK_ROLE=serve). Same environment as serve.
`;

export const PLAN_HELP = `Usage: tidemark plan [--dir <repo>] [--tags-file <tags.json>] [--write] [--json]

  --dir        the config repo checkout (default: the current directory)
  --tags-file  { "<image>": ["tag", …] } or { "<image>": { "tags": [...], "digests": { "<tag>": "sha256:…" } } }
               instead of asking the registries
  --write      apply the changes to the files
  --json       print the plan as JSON, with the publishing actions the App would take ("publishing": the
               same pure plan as the App's, computed as if no tidemark branch or PR existed yet)
  --base       the branch PRs target (default: main; push mode: update.branch from the config, else this)

Registries are read exactly as the App reads them: credentials from the variables that .github/tidemark.yml
\`registries:\` names (never tidemark's own settings), else from $DOCKER_CONFIG/config.json (~/.docker);
mirrors from TIDEMARK_REGISTRY_MIRRORS; the same rate limits and plain-HTTP hosts.

Exit codes: 0 success, 2 configuration errors (all listed), 3 a registry could not be read.
`;

export const INIT_HELP = `Usage: tidemark init [--dir <repo>] [--tags-file <tags.json>] [--write] [--json]

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

export const POLICY_EVAL_HELP = `Usage: tidemark policy eval --policy <file> --tags <file|-> [--name <policy>] [--json]

  --policy  YAML with a Flux ImagePolicy (optionally with its ImageRepository in the same file, for its
            exclusionList; without it the tags still come from --tags), one native policy entry
            ({ name, image, policy: { semver | alphabetical | numerical } }), or a whole .github/tidemark.yml
            or policies/examples file (policies: [...])
  --name    which policy, when the file holds several (its name, or namespace:name)
  --tags    tags, one per line ('-' reads standard input)
  --json    print { tag, considered, skipped: [{ tag, why }] }

Exit codes: 0 a tag was selected, 1 nothing qualifies, 2 the policy is invalid or an input is unreadable.
`;

export const MARKERS_APPLY_HELP = `Usage: tidemark markers apply --results <results.json> [--write] [--json] <file...>

  results.json  { "<namespace>:<policy>": { "name": "<image>", "tag": "<tag>", "digest": "sha256:…" } }
  one file      prints the rewritten file to stdout (exactly its bytes)
  several files prints a unified diff
  --write       edits the files in place
  --json        prints { changes, warnings }

Exit codes: 0 success, 2 unreadable input or an invalid results file.
`;
