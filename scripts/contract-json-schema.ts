/**
 * The message contract as JSON Schema (draft 2020-12), generated from the schema every consumer
 * checks, for producers in other languages (docs/message-contract.schema.json). A build-time
 * tool: the generator is a dev dependency and never reaches a Lambda bundle.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import { taskEnvelopeSchema } from '../shared/contract-schema.js';

/**
 * The v1 contract as JSON Schema.
 *
 * @example
 * ```ts
 * writeFileSync('docs/message-contract.schema.json', JSON.stringify(contractJsonSchema(), null, 2));
 * ```
 */
export function contractJsonSchema(): Record<string, unknown> {
  return toJsonSchema(taskEnvelopeSchema, {
    target: 'draft-2020-12',
    // `payload: unknown` and the `check` that it is present have no JSON Schema of their own:
    // `required` says it, and any value is allowed.
    errorMode: 'ignore',
  }) as Record<string, unknown>;
}
