import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractJsonSchema } from '../../../scripts/contract-json-schema.js';

describe('contractJsonSchema', () => {
  it('describes the v1 contract as JSON Schema draft 2020-12', () => {
    const schema = contractJsonSchema();

    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['v', 'id', 'task', 'payload']);
    // Unknown fields are allowed (JSON Schema's default), as the consumer keeps them.
    expect(schema.additionalProperties ?? {}).toEqual({});
  });

  it('matches the schema published in docs/ (run scripts/write-contract-schema.ts to update it)', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../../docs/message-contract.schema.json', import.meta.url), 'utf8'),
    );

    expect(published).toEqual(contractJsonSchema());
  });
});
