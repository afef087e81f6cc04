import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type EventSourceRunner, startEventSources } from '../../local/event-source-runner.js';
import type { LocalFunction } from '../../local/lambda-runtime.js';
import { InvocationFault, type RunnerFaults } from '../../local/runner-faults.js';
import { createTestQueue, sqsClient, waitFor } from '../helpers/aws.js';
import { queueDepth } from '../helpers/e2e.js';

/**
 * The runner's test-only fault hooks, on a real fauxqs queue with a stand-in function that
 * records what it was given: what each fault does to deletes and redeliveries.
 */

let runner: EventSourceRunner | undefined;
afterEach(async () => {
  await runner?.stop(5_000);
  runner = undefined;
});

/** A function that acknowledges everything and remembers every message id it saw. */
function recordingFunction(timeoutSeconds = 2): LocalFunction & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    definition: {
      logicalId: 'Recorder',
      name: 'recorder',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:recorder',
      handler: 'index.handler',
      codeDir: '.',
      timeoutSeconds,
      memorySize: 128,
      runtime: 'nodejs22.x',
      environment: {},
      logGroupName: '/aws/lambda/recorder',
    },
    async invoke(event) {
      seen.push(...(event as SQSEvent).Records.map((r) => r.messageId));
      return { status: 'ok', response: { batchItemFailures: [] }, durationMs: 0 };
    },
    unload() {},
  };
}

async function run(fn: LocalFunction, faults?: RunnerFaults) {
  const queue = await createTestQueue({ prefix: 'runner-faults' });
  const { MessageId } = await sqsClient().send(
    new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{}' }),
  );
  const { region, endpoints } = inject('emulators');
  runner = startEventSources({
    mappings: [
      {
        logicalId: 'Mapping',
        queueUrl: queue.url,
        queueArn: queue.arn,
        batchSize: 10,
        maxBatchingWindowSeconds: 0,
        maximumConcurrency: 1,
        reportBatchItemFailures: true,
        fn,
      },
    ],
    region,
    sqsEndpoint: endpoints.sqs,
    visibilityTimeoutOverride: 1,
    faults,
  });
  const stats = () => (runner as EventSourceRunner).stats()[0];
  return { queue, messageId: MessageId as string, stats };
}

describe('event source runner faults', () => {
  it('deletes an acknowledged record when no fault is set', async () => {
    const fn = recordingFunction();
    const { queue, stats } = await run(fn);

    await waitFor(async () => (await queueDepth(queue.url)) === 0, { message: 'the record to be deleted' });

    expect(fn.seen).toHaveLength(1);
    expect(stats()).toMatchObject({ batches: 1, succeeded: 1, failed: 0, errors: 0, timeouts: 0 });
  });

  it('crash-before-ack runs the handler but deletes nothing, so the record comes back', async () => {
    const fn = recordingFunction();
    let crashes = 1;
    const { queue, messageId, stats } = await run(fn, {
      invocation: () => (crashes-- > 0 ? InvocationFault.crashBeforeAck : undefined),
    });

    await waitFor(async () => (await queueDepth(queue.url)) === 0, {
      message: 'the redelivered record to be deleted',
    });

    expect(fn.seen).toEqual([messageId, messageId]);
    expect(stats()).toMatchObject({ batches: 2, errors: 1, failed: 1, succeeded: 1 });
  });

  it('timeout lets the handler finish, then ends the invocation at its deadline without deleting', async () => {
    const fn = recordingFunction(1);
    let timeouts = 1;
    const started = Date.now();
    const { queue, messageId, stats } = await run(fn, {
      invocation: () => (timeouts-- > 0 ? InvocationFault.timeout : undefined),
    });

    await waitFor(async () => stats()?.timeouts === 1, { message: 'the invocation to time out' });
    const timedOutAfterMs = Date.now() - started;
    await waitFor(async () => (await queueDepth(queue.url)) === 0, {
      message: 'the redelivered record to be deleted',
    });

    expect(timedOutAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(fn.seen).toEqual([messageId, messageId]);
    expect(stats()).toMatchObject({ batches: 2, timeouts: 1, failed: 1, succeeded: 1 });
  });

  it('duplicate delivers the same message in a second invocation alongside the first', async () => {
    const fn = recordingFunction();
    const { queue, messageId, stats } = await run(fn, {
      duplicate: ({ messages, duplicate }) => (duplicate ? undefined : messages),
    });

    await waitFor(async () => (await queueDepth(queue.url)) === 0, { message: 'the record to be deleted' });

    expect(fn.seen).toEqual([messageId, messageId]);
    expect(stats()).toMatchObject({ batches: 2, records: 2, errors: 0 });
  });
});
