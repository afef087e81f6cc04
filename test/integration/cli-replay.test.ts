import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentTaskError } from '../../shared/errors.js';
import { snapshot } from '../../shared/monitoring/snapshot.js';
import { defineTask } from '../../shared/registry.js';
import { sqsClient, waitFor } from '../helpers/aws.js';
import { harnessWorkspace, runCli, spawnCli } from '../helpers/cli.js';
import { consumerHarness } from '../helpers/consumer-harness.js';
import { type DeclaredAccess, startDeclaredAccess } from '../helpers/declared-access.js';

const LETTERS = 30;

/** Fails permanently while `broken`; afterwards counts each real execution per task id. */
let broken = true;
const executions = new Map<string, number>();
const gate = defineTask({
  name: 'gate',
  schema: z.object({ id: z.string() }),
  handler: ({ id }) => {
    if (broken) throw new PermanentTaskError('downstream is down');
    executions.set(id, (executions.get(id) ?? 0) + 1);
  },
});

let access: DeclaredAccess;
// The CLI runs as the operator, holding exactly the operator's declared access (IAM enforced).
beforeAll(async () => {
  access = await startDeclaredAccess();
});
afterAll(async () => {
  await access?.stop();
});

describe('tierq dlq replay, interrupted', () => {
  it('loses nothing when killed halfway, and the rerun plus idempotency runs each task once', async () => {
    const h = await consumerHarness({ tasks: [gate] });
    const dir = await harnessWorkspace(h, access);
    const ids = Array.from({ length: LETTERS }, (_, i) => `r-${i}`);
    for (const id of ids) await h.send('low', { id, task: 'gate', payload: { id } });
    // Until all 30 are dead letters: a record an invocation left failed comes back after the
    // queue's visibility timeout, so "the tier looks empty" is not yet "all dead-lettered".
    await waitFor(
      async () => {
        await h.invoke(await h.receive('low', 10, 1));
        return (await dlqVisible()) === LETTERS;
      },
      { timeoutMs: 45_000, message: 'every task dead-lettered' },
    );
    broken = false;

    // Kill -9 the replay once it has moved at least 10 letters: no chance to clean up.
    const replay = spawnCli(['dlq', 'replay', '--hold', '2s'], dir);
    let replayed = 0;
    replay.stdout?.on('data', (chunk: Buffer) => {
      replayed += chunk.toString().match(/^replayed r-/gm)?.length ?? 0;
      if (replayed >= 10) replay.kill('SIGKILL');
    });
    await new Promise((resolve) => replay.on('close', resolve));
    expect(replayed).toBeGreaterThanOrEqual(10);
    expect(replayed).toBeLessThan(LETTERS);

    // Nothing lost: every task is on its tier or still in the DLQ, visible or held by the killed
    // replay. (fauxqs makes held letters visible lazily, on the next receive, so count both.)
    const low = (await h.depth('low')).visible;
    const dlq = await dlqDepth();
    expect(
      low + dlq.visible + dlq.inFlight,
      `${low} on the tier, ${JSON.stringify(dlq)} in the DLQ`,
    ).toBeGreaterThanOrEqual(LETTERS);
    // Rerun until the DLQ is empty: a letter the killed replay held comes back only after --hold.
    await waitFor(
      async () => {
        const rest = await runCli(['dlq', 'replay'], dir);
        expect(rest.code).toBe(0);
        const left = await dlqDepth();
        return left.visible + left.inFlight === 0;
      },
      { timeoutMs: 30_000, message: 'a rerun to empty the DLQ' },
    );
    // Run every replayed copy through the consumer, noting which task each one carried.
    const onTier: string[] = [];
    await waitFor(
      async () => {
        const event = await h.receive('low', 10, 0);
        onTier.push(...event.Records.map((r) => JSON.parse(r.body).id as string));
        await h.invoke(event);
        return (await h.depth('low')).visible === 0;
      },
      { message: 'the replayed tasks to run' },
    );
    expect(new Set(onTier)).toEqual(new Set(ids));
    // A letter sent but not yet deleted when the kill came is replayed twice: at most one...
    expect(onTier.length - LETTERS).toBeLessThanOrEqual(1);
    // ...and idempotency on the task id runs it once all the same.
    expect(ids.map((id) => executions.get(id))).toEqual(ids.map(() => 1));
    expect(await dlqVisible()).toBe(0);

    async function dlqVisible(): Promise<number> {
      return (await dlqDepth()).visible;
    }
    /** The DLQ's visible and in-flight counts, read as a tier's (snapshot reports only visible). */
    async function dlqDepth(): Promise<{ visible: number; inFlight: number }> {
      const snap = await snapshot({
        sqs: sqsClient(),
        queues: { dlq: h.config.deadLetterQueueUrl },
        dlqUrl: h.config.deadLetterQueueUrl,
      });
      const { visible, inFlight } = snap.tiers.dlq as { visible: number; inFlight: number };
      return { visible, inFlight };
    }
  }, 120_000);
});
