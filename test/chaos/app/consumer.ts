import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConsumerConfig } from '../../../shared/consumer/config.js';
import { createDefaultConsumer } from '../../../shared/consumer/default-consumer.js';
import { ConfigError } from '../../../shared/errors.js';
import { TaskRegistry } from '../../../shared/registry.js';
import { LedgerPath, postToLedger } from './ledger-client.js';
import { chaosTasks, currentInvocation } from './tasks.js';

/**
 * The chaos app's consumer: tierq's own consumer with the chaos tasks, as an application would
 * bundle it through `TaskQueue`'s `consumerEntry`. Around each invocation it tells the ledger
 * when the invocation started and ended, so `once`-mode runs can be told concurrent or not. An
 * invocation is named by its `awsRequestId`, which the runner's fault hooks also see, so a side
 * effect can be traced to an invocation the runner killed (it never posts its end).
 */

const config = loadConsumerConfig(process.env);
const ledgerUrl = process.env.CHAOS_LEDGER_URL;
if (!ledgerUrl) throw new ConfigError('environment variable CHAOS_LEDGER_URL is required but not set');

const consumer = createDefaultConsumer({ config, registry: new TaskRegistry(chaosTasks(ledgerUrl)) });

/** The payload key of a record, if its body is a chaos envelope. */
function keyOf(body: string): string | undefined {
  try {
    const key = (JSON.parse(body) as { payload?: { key?: unknown } }).payload?.key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const invocationId = context.awsRequestId;
  const startedAt = Date.now();
  const response = await currentInvocation.run({ invocationId }, () => consumer(event, context));
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const failedKeys = event.Records.filter((r) => failed.has(r.messageId)).map((r) => keyOf(r.body) ?? '');
  await postToLedger(ledgerUrl, LedgerPath.invocation, {
    invocationId,
    startedAt,
    endedAt: Date.now(),
    failedKeys,
  });
  return response;
};
