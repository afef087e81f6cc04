import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentTaskError } from '../../shared/errors.js';
import { defineTask } from '../../shared/registry.js';
import { waitFor } from '../helpers/aws.js';
import { harnessWorkspace, runCli, spawnCli } from '../helpers/cli.js';
import { consumerHarness } from '../helpers/consumer-harness.js';

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

describe('tierq dlq replay, interrupted', () => {
  it('loses nothing when killed halfway, and the rerun plus idempotency runs each task once', async () => {
    const h = await consumerHarness({ tasks: [gate] });
    const dir = await harnessWorkspace(h);
    const ids = Array.from({ length: LETTERS }, (_, i) => `r-${i}`);
    for (const id of ids) await h.send('low', { id, task: 'gate', payload: { id } });
    await waitFor(
      async () => {
        await h.invoke(await h.receive('low', 10, 0));
        return (await h.depth('low')).visible === 0;
      },
      { message: 'every task dead-lettered' },
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

    // Nothing lost: every task is on its tier or still in the DLQ (held ones reappear after 2 s).
    await waitFor(async () => (await h.depth('low')).visible + (await dlqVisible()) >= LETTERS, {
      message: 'held letters to reappear',
    });
    const rest = await runCli(['dlq', 'replay'], dir);
    expect(rest.code).toBe(0);
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
      const run = await runCli(['status', '--json'], dir);
      return JSON.parse(run.stdout).dlq.visible;
    }
  });
});
