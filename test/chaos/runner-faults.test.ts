import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type EventSourceRunner, startEventSources } from '../../local/event-source-runner.js';
import { type LocalFunction, loadFunction } from '../../local/lambda-runtime.js';
import { type FaultInvocation, InvocationFault, type RunnerFaults } from '../../local/runner-faults.js';
import { createTestQueue, sqsClient, waitFor } from '../helpers/aws.js';
import { queueDepth } from '../helpers/e2e.js';
import { processAlive, type TestBundle, writeTestBundle } from '../helpers/function-bundle.js';

/**
 * The runner's test-only fault hooks, on a real fauxqs queue with a stand-in function that
 * records what it was given (or, for a timeout, a real sandboxed bundle): what each fault does
 * to deletes and redeliveries.
 */

let runner: EventSourceRunner | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await runner?.stop(5_000);
  runner = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
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
    node: { path: process.execPath, version: process.version, wantedMajor: 22, source: 'fallback' },
    async invoke(event, options = {}) {
      seen.push(...(event as SQSEvent).Records.map((r) => r.messageId));
      const common = { requestId: options.requestId ?? 'r', durationMs: 0, coldStart: false };
      return { status: 'ok', response: { batchItemFailures: [] }, ...common };
    },
    async unload() {},
  };
}

/**
 * A real function in a sandbox: it journals `before <requestId> <pid>` for each record, sleeps
 * a second, then journals `after <requestId>` and acknowledges everything.
 */
async function sleepyFunction(): Promise<{ fn: LocalFunction; bundle: TestBundle }> {
  const bundle = writeTestBundle(`
    const { appendFileSync } = require('node:fs');
    const journal = (line) => appendFileSync(process.env.TEST_JOURNAL, line + '\\n');
    exports.handler = async (event, context) => {
      journal('before ' + context.awsRequestId + ' ' + process.pid);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      journal('after ' + context.awsRequestId);
      return { batchItemFailures: [] };
    };
  `);
  const { region, endpoints } = inject('emulators');
  const fn = await loadFunction(bundle.definition, { region, endpoints });
  cleanups.push(async () => {
    await fn.unload();
    await bundle.remove();
  });
  return { fn, bundle };
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
        uuid: 'mapping-1',
        arn: `arn:aws:lambda:${region}:000000000000:event-source-mapping:mapping-1`,
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

  it('timeout kills the handler in the middle of its work and deletes nothing, so the record comes back', async () => {
    const { fn, bundle } = await sleepyFunction();
    const killed: { invocation: FaultInvocation; afterMs: number }[] = [];
    let timeouts = 1;
    const { queue, stats } = await run(fn, {
      invocation: () => (timeouts-- > 0 ? InvocationFault.timeout : undefined),
      timeoutAfterMs: () => 300,
      killed: (invocation, afterMs) => killed.push({ invocation, afterMs }),
    });

    await waitFor(async () => (await queueDepth(queue.url)) === 0, {
      timeoutMs: 15_000,
      message: 'the redelivered record to be deleted',
    });
    const journal = bundle.journalLines();
    const [first, second] = journal.filter((l) => l.startsWith('before ')).map((l) => l.split(' '));
    // The killed sandbox is gone: the half of the handler after the kill can never run.
    await waitFor(() => !processAlive(Number(first?.[2])), { message: 'the killed sandbox to be gone' });

    expect(killed.map((k) => [k.invocation.requestId, k.afterMs])).toEqual([[first?.[1], 300]]);
    expect(journal.filter((l) => l.startsWith('after '))).toEqual([`after ${second?.[1]}`]);
    expect(stats()).toMatchObject({ batches: 2, timeouts: 1, failed: 1, succeeded: 1 });
  });

  it('timeout still fails an invocation that answered before the kill point, without killing anything', async () => {
    const fn = recordingFunction();
    const killed: FaultInvocation[] = [];
    let timeouts = 1;
    const { queue, messageId, stats } = await run(fn, {
      invocation: () => (timeouts-- > 0 ? InvocationFault.timeout : undefined),
      timeoutAfterMs: () => 1_000,
      killed: (invocation) => killed.push(invocation),
    });

    await waitFor(async () => (await queueDepth(queue.url)) === 0, {
      message: 'the redelivered record to be deleted',
    });

    expect(fn.seen).toEqual([messageId, messageId]);
    expect(killed).toEqual([]);
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
