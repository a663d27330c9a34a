/**
 * Writes the published JSON Schemas from their sources (`npx tsx scripts/write-schema.ts`):
 * policies/tidemark.schema.json (src/core/config/schema.ts) and policies/endpoints.schema.json
 * (src/core/config/endpoints-schema.ts). Tests fail when either is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENDPOINTS_FILE_SCHEMA } from '../src/core/config/endpoints-schema.js';
import { TIDEMARK_CONFIG_SCHEMA } from '../src/core/config/schema.js';

const dir = join(import.meta.dirname, '..', 'policies');
writeFileSync(join(dir, 'tidemark.schema.json'), `${JSON.stringify(TIDEMARK_CONFIG_SCHEMA, null, 2)}\n`);
writeFileSync(join(dir, 'endpoints.schema.json'), `${JSON.stringify(ENDPOINTS_FILE_SCHEMA, null, 2)}\n`);
