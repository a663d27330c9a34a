/** Writes policies/tidemark.schema.json from src/config/schema.ts (`npx tsx scripts/write-schema.ts`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TIDEMARK_CONFIG_SCHEMA } from '../src/core/config/schema.js';

writeFileSync(
  join(import.meta.dirname, '..', 'policies', 'tidemark.schema.json'),
  `${JSON.stringify(TIDEMARK_CONFIG_SCHEMA, null, 2)}\n`,
);
