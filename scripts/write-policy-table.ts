/** Rewrites the policy table in README.md (between <!-- policy:start --> and <!-- policy:end -->) from packages/contracts/src/policy.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { policyMarkdown } from '../packages/contracts/src/policy-table.md.ts';

const file = path.resolve(import.meta.dirname, '../README.md');
const text = readFileSync(file, 'utf8');
const start = '<!-- policy:start -->';
const end = '<!-- policy:end -->';
const i = text.indexOf(start);
const j = text.indexOf(end);
if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} block`);
writeFileSync(file, `${text.slice(0, i + start.length)}\n${policyMarkdown()}\n${text.slice(j)}`);
console.log(`wrote the policy table into ${file}`);
