import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createPowertoolsConsumer } from './powertools-consumer.js';

// The Lambda entry of the baseline, bundled by the cold-start benchmark the way
// functions/consumer.ts is: configuration read and clients created once, at module load.
const tableName = process.env.IDEMPOTENCY_TABLE_NAME;
if (!tableName) throw new Error('environment variable IDEMPOTENCY_TABLE_NAME is required but not set');

/** The Powertools baseline consumer as a Lambda handler. */
export const handler = createPowertoolsConsumer({ dynamodb: new DynamoDBClient({}), tableName });
