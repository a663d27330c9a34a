/**
 * Every `TIDEMARK_*` setting tidemark reads: the `TIDEMARK_` properties of the environment's schema
 * (`env-schema.ts`), in alphabetical order. `readEnv` refuses a name that is not here (a typo in a setting name
 * would otherwise be ignored without a word), and tests keep the list, the code that reads the environment and
 * the README's table in step.
 */
import { ENV_VARIABLES, type EnvVariable } from './env-schema.js';

export type TidemarkSetting = Extract<EnvVariable, `TIDEMARK_${string}`>;

export const TIDEMARK_SETTINGS: readonly TidemarkSetting[] = ENV_VARIABLES.filter((n): n is TidemarkSetting =>
  n.startsWith('TIDEMARK_'),
).sort();
