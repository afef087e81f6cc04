import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { exampleTasks } from '../../../functions/tasks.js';
import { loadConsumerConfig } from '../../../shared/config.js';
import { createConsumer } from '../../../shared/consumer.js';
import { defineTask, TaskRegistry } from '../../../shared/registry.js';
import { consumerEnv, lambdaContext, sqsEvent, sqsRecord, taskBody } from '../../helpers/sqs-event.js';

const config = loadConsumerConfig(consumerEnv());

function consumerWith(...extra: Parameters<TaskRegistry['register']>[0][]) {
  return createConsumer({ config, registry: new TaskRegistry([...exampleTasks, ...extra]) });
}

describe('consumer', () => {
  it('runs valid records and reports none as failed', async () => {
    const handler = consumerWith();
    const records = [
      sqsRecord(taskBody('echo', { hello: 'world' })),
      sqsRecord(taskBody('sleep', { ms: 5 })),
    ];
    const response = await handler(sqsEvent(records), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports only the failed records of a mixed batch', async () => {
    const handler = consumerWith();
    const good = sqsRecord(taskBody('echo', 1));
    const notJson = sqsRecord('{"v":1,"id":');
    const unknown = sqsRecord(taskBody('no-such-task', {}));
    const badPayload = sqsRecord(taskBody('sleep', { ms: 'soon' }));
    const response = await handler(sqsEvent([good, notJson, unknown, badPayload]), lambdaContext());
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [notJson.messageId, unknown.messageId, badPayload.messageId].sort(),
    );
  });

  it('passes the attempt number from the receive count to the task (flaky fails until it exceeds failTimes)', async () => {
    const handler = consumerWith();
    const body = taskBody('flaky', { failTimes: 2 });
    const second = await handler(sqsEvent([sqsRecord(body, { receiveCount: 2 })]), lambdaContext());
    expect(second.batchItemFailures).toHaveLength(1);
    const third = await handler(sqsEvent([sqsRecord(body, { receiveCount: 3 })]), lambdaContext());
    expect(third.batchItemFailures).toHaveLength(0);
  });

  it('runs the records of a batch concurrently', async () => {
    let started = 0;
    let release: () => void = () => undefined;
    const allStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Each record waits until every record has started: this only completes if they overlap.
    const barrier = defineTask({
      name: 'barrier',
      schema: z.object({ n: z.number() }),
      timeoutMs: 5_000,
      handler: async ({ n }) => {
        started += 1;
        if (started === n) release();
        await allStarted;
        return started;
      },
    });
    const handler = consumerWith(barrier);
    const records = Array.from({ length: 5 }, () => sqsRecord(taskBody('barrier', { n: 5 })));
    const response = await handler(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(started).toBe(5);
  });

  it('fails an attempt that overruns the task timeout without failing its neighbours', async () => {
    const slow = defineTask({
      name: 'slow',
      schema: z.null(),
      timeoutMs: 20,
      handler: () => new Promise((resolve) => setTimeout(resolve, 2_000)),
    });
    const handler = consumerWith(slow);
    const overrun = sqsRecord(taskBody('slow', null));
    const fine = sqsRecord(taskBody('echo', null));
    const response = await handler(sqsEvent([overrun, fine]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: overrun.messageId }]);
  });

  it('tells a task which tier its record came from', async () => {
    const seen: string[] = [];
    const where = defineTask({
      name: 'where',
      schema: z.null(),
      handler: (_p, ctx) => void seen.push(ctx.tier),
    });
    const handler = consumerWith(where);
    await handler(
      sqsEvent([
        sqsRecord(taskBody('where', null), { tier: 'critical' }),
        sqsRecord(taskBody('where', null), { tier: 'low' }),
      ]),
      lambdaContext(),
    );
    expect(seen.sort()).toEqual(['critical', 'low']);
  });
});
