import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../../../local/stack.js';
import { listBreakers } from '../../../shared/stores/breaker-admin.js';
import { waitFor } from '../../helpers/aws.js';
import { principalClients } from '../../helpers/e2e.js';
import { drainDeadLetters, heldMessages } from '../queues.js';
import { enqueue } from '../workload.js';
import type { Downstream } from './downstream.js';

/** What one outage run did, as docs/BENCHMARKS.md reports it. */
export interface OutageFigures {
  readonly task: string;
  readonly tasks: number;
  readonly outageMs: number;
  /** Calls that reached the downstream while it was down (each answered 503). */
  readonly callsDuringOutage: number;
  /** Every call the downstream received for this run: the attempts spent. */
  readonly calls: number;
  readonly succeeded: number;
  /** Tasks that succeeded more than once. */
  readonly duplicates: number;
  readonly deadLetters: number;
  readonly deadLetterReasons: Record<string, number>;
  /** Times the breaker opened (from closed, or after a failed probe), and probes that went out (failed ones plus the one that closed it). */
  readonly breakerOpens: number;
  readonly probes: number;
  /** From the end of the outage to the last task's success (or dead letter). */
  readonly drainedAfterRecoveryMs: number;
  readonly totalMs: number;
}

/**
 * Enqueues `tasks` of `task`, lets the downstream fail every call for `outageMs` once a tenth
 * of them have succeeded, and waits until every task has succeeded or is in the DLQ.
 */
export async function runOutage(options: {
  readonly task: 'guarded-call' | 'unguarded-call';
  readonly tasks: number;
  readonly outageMs: number;
  /** The outage app's local stack: enqueued to as its producer, watched as its operator. */
  readonly stack: LocalStack;
  readonly downstream: Downstream;
  readonly timeoutMs: number;
}): Promise<OutageFigures> {
  const { task, tasks, downstream, stack } = options;
  const { producer, operator, dynamodb } = principalClients(stack);
  const where = { dynamodb, tableName: stack.table };
  const ids = Array.from({ length: tasks }, () => `${task}-${randomUUID()}`);
  const mine = () => downstream.calls.filter((c) => c.task === task);
  const breakerOpensBefore = await opens(where);
  const started = Date.now();
  await enqueue(
    producer,
    stack.queues,
    ids.map((id, n) => ({ tier: 'normal', body: JSON.stringify({ v: 1, id, task, payload: { n } }) })),
  );
  await waitFor(() => mine().filter((c) => c.ok).length >= tasks / 10, {
    timeoutMs: options.timeoutMs,
    intervalMs: 20,
    message: `a tenth of the ${task} tasks to succeed`,
  });
  const outage = downstream.failFor(options.outageMs);
  const deadLetters: Awaited<ReturnType<typeof drainDeadLetters>> = [];
  await waitFor(
    async () => {
      deadLetters.push(...(await drainDeadLetters(operator, stack.dlq)));
      const succeeded = new Set(
        mine()
          .filter((c) => c.ok)
          .map((c) => c.id),
      );
      return (
        Date.now() > outage.to &&
        succeeded.size + deadLetters.length >= tasks &&
        (await heldMessages(operator, stack.queues.normal ?? '')) === 0
      );
    },
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 500,
      message: `every ${task} task to succeed or be dead-lettered`,
    },
  );
  const calls = mine();
  const successes = new Map<string, number>();
  for (const c of calls) if (c.ok) successes.set(c.id, (successes.get(c.id) ?? 0) + 1);
  const lastSettled = Math.max(...calls.map((c) => c.at));
  const reasons: Record<string, number> = {};
  for (const d of deadLetters) reasons[d.reason ?? 'none'] = (reasons[d.reason ?? 'none'] ?? 0) + 1;
  const opensNow = await opens(where);
  return {
    task,
    tasks,
    outageMs: options.outageMs,
    // What the outage answered: every call it failed (503). Counted by the answer, not by the
    // clock, so a call is counted once whatever its timing at the window's edges.
    callsDuringOutage: calls.filter((c) => !c.ok).length,
    calls: calls.length,
    succeeded: successes.size,
    duplicates: [...successes.values()].filter((n) => n > 1).length,
    deadLetters: deadLetters.length,
    deadLetterReasons: reasons,
    breakerOpens: opensNow.opens - breakerOpensBefore.opens,
    // Each failed probe opened it again; the last probe, which succeeded, closed it.
    probes: opensNow.opens - breakerOpensBefore.opens,
    drainedAfterRecoveryMs: Math.max(0, lastSettled - outage.to),
    totalMs: Date.now() - started,
  };
}

async function opens(options: { dynamodb: DynamoDBClient; tableName: string }) {
  const breakers = await listBreakers({ client: options.dynamodb, tableName: options.tableName });
  return { opens: breakers.find((b) => b.name === 'downstream')?.opens ?? 0 };
}
