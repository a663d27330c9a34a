/**
 * Writes the published JSON Schemas from their sources (`npx tsx scripts/write-schema.ts`):
 * policies/tidemark.schema.json (src/core/config/schema.ts) and policies/endpoints.schema.json
 * (src/core/config/endpoints-schema.ts); the precompiled validators (scripts/native-validator.ts) of the first
 * and of the process environment (src/config/env-schema.ts). Tests fail when any of them is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENDPOINTS_FILE_SCHEMA } from '../src/core/config/endpoints-schema.js';
import { TIDEMARK_CONFIG_SCHEMA } from '../src/core/config/schema.js';
import {
  ENV_VALIDATOR_PATH,
  envValidatorModule,
  NATIVE_VALIDATOR_PATH,
  nativeValidatorModule,
} from './native-validator.js';

const dir = join(import.meta.dirname, '..', 'policies');
writeFileSync(join(dir, 'tidemark.schema.json'), `${JSON.stringify(TIDEMARK_CONFIG_SCHEMA, null, 2)}\n`);
writeFileSync(join(dir, 'endpoints.schema.json'), `${JSON.stringify(ENDPOINTS_FILE_SCHEMA, null, 2)}\n`);
writeFileSync(join(import.meta.dirname, '..', NATIVE_VALIDATOR_PATH), nativeValidatorModule());
writeFileSync(join(import.meta.dirname, '..', ENV_VALIDATOR_PATH), envValidatorModule());
