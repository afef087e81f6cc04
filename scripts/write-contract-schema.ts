/**
 * Writes the message contract's JSON Schema to docs/message-contract.schema.json, so producers
 * in other languages can validate bodies without reading TypeScript.
 *
 * @example
 * ```sh
 * npx tsx scripts/write-contract-schema.ts
 * ```
 */
import { writeFileSync } from 'node:fs';
import { contractJsonSchema } from './contract-json-schema.js';

const target = new URL('../docs/message-contract.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(contractJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
