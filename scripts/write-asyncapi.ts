/** Rewrites docs/asyncapi.json from the event schemas (the core catalogue). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildAsyncApi } from '../packages/ems/src/asyncapi/asyncapi.ts';

const file = path.resolve(import.meta.dirname, '../docs/asyncapi.json');
writeFileSync(file, `${JSON.stringify(buildAsyncApi(), null, 2)}\n`);
console.log(`wrote ${file}`);
