import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createConsumer } from '../../shared/consumer/consumer.js';
import { batchOf, DeferCause } from '../../shared/consumer/record-state.js';
import { ConfigError } from '../../shared/errors.js';
import { defineTask, IdempotencyMode, TaskRegistry } from '../../shared/registry.js';
import { DynamoTenantLeases, leasePartitionKey } from '../../shared/stores/dynamo-tenant-leases.js';
import { createTestTable, dynamoClient, sqsClient, waitFor } from '../helpers/aws.js';
import { type ConsumerHarness, consumerHarness } from '../helpers/consumer-harness.js';

/**
 * Per-tenant fairness on the real emulators: the lease store alone (several consumers, each
 * its own instance and cache, on one table), then the consumer with `concurrency.perTenant`
 * and `rateLimit.perTenant` under concurrent invocations.
 */

let tableName: string;
beforeAll(async () => {
  tableName = await createTestTable('tenant-leases');
});
/** What became of each record of an event the consumer handled: the outcome, or the deferral's cause. */
function outcomesOf(event: SQSEvent): string[] {
  return batchOf(event).records.map((r) =>
    r.outcome.kind === 'deferred' ? r.outcome.cause : r.outcome.kind,
  );
}

/** A batch of at least `n` visible messages of a tier, or undefined while fewer are visible. */
async function receiveSome(harness: ConsumerHarness, tier: string, n = 1): Promise<SQSEvent | undefined> {
  if ((await harness.depth(tier)).visible < n) return undefined;
  const event = await harness.receive(tier, 10, 0);
  return event.Records.length >= n ? event : undefined;
}

const leaseStore = () => new DynamoTenantLeases(dynamoClient(), tableName);
const key = () => ({ task: 'sync', tenant: `t-${randomUUID().slice(0, 8)}` });
const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('DynamoTenantLeases', () => {
  it('grants up to the limit, then nothing until a lease is released', async () => {
    const leases = leaseStore();
    const k = key();
    const now = Date.now();

    const first = await leases.acquire(k, 3, ids(5), now + 60_000, now);
    const full = await leases.acquire(k, 3, ids(1), now + 60_000, now);
    await leases.release(k, first.granted.slice(0, 1));
    const again = await leases.acquire(k, 3, ids(2), now + 60_000, now);

    expect(first.granted).toHaveLength(3);
    expect(full.granted).toHaveLength(0);
    expect(again.granted).toHaveLength(1);
  });

  it('never holds more than the limit across consumers racing for the same slots', async () => {
    const k = key();
    const limit = 3;
    const consumers = Array.from({ length: 6 }, leaseStore);
    let live = 0;
    let maxLive = 0;
    let granted = 0;
    const deadline = Date.now() + 1_500;
    await Promise.all(
      consumers.map(async (leases) => {
        while (Date.now() < deadline) {
          const got = await leases.acquire(k, limit, ids(2), Date.now() + 60_000);
          live += got.granted.length;
          granted += got.granted.length;
          maxLive = Math.max(maxLive, live);
          await new Promise((resolve) => setTimeout(resolve, 5));
          // Released before the count drops: the count can only over-state what is held.
          await leases.release(k, got.granted);
          live -= got.granted.length;
        }
      }),
    );
    console.info('six consumers, limit 3, 1.5 s', { granted, maxLive });
    expect(maxLive).toBeLessThanOrEqual(limit);
    expect(granted).toBeGreaterThan(limit);
  });

  it('lets an expired lease (a crashed holder) free its slot, and prunes it', async () => {
    const crashed = leaseStore();
    const other = leaseStore();
    const k = key();
    const now = Date.now();
    const held = await crashed.acquire(k, 1, ['crashed'], now + 2_000, now);

    const whileLive = await other.acquire(k, 1, ['next'], now + 60_000, now + 1_999);
    const afterExpiry = await other.acquire(k, 1, ['next'], now + 60_000, now + 2_000);
    const { Item } = await dynamoClient().send(
      new GetCommand({ TableName: tableName, Key: { pk: leasePartitionKey(k), sk: 'leases' } }),
    );

    expect(held.granted).toEqual(['crashed']);
    expect(whileLive.granted).toEqual([]);
    expect(afterExpiry.granted).toEqual(['next']);
    expect(Object.keys(Item?.leases ?? {})).toEqual(['next']);
  });
});

describe('the consumer with per-tenant limits', () => {
  it('refuses a consumer with concurrency.perTenant but no lease store', async () => {
    const task = defineTask({
      name: 'per-tenant',
      schema: z.unknown(),
      concurrency: { perTenant: 1 },
      handler: () => undefined,
    });
    const harness = await consumerHarness({ tasks: [task] });
    const build = () =>
      createConsumer({
        config: harness.config,
        registry: new TaskRegistry([task]),
        sqs: sqsClient(),
        store: harness.store,
        limiter: harness.limiter,
        pauses: { pausedTasks: async () => new Set<string>() },
        metrics: new Metrics({ namespace: 'tierq-test' }),
        now: Date.now,
        maxHopSeconds: 900,
      });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/task "per-tenant": concurrency.perTenant needs/);
  });

  it('never runs more than perTenant of a tenant at once across concurrent consumers, deferring the rest without an attempt', async () => {
    const running = new Map<string, number>();
    const maxRunning = new Map<string, number>();
    const runs: { tenant: string; attempt: number }[] = [];
    const task = defineTask({
      name: `tenant-sync-${randomUUID().slice(0, 6)}`,
      schema: z.object({ tenant: z.string() }),
      concurrency: { perTenant: 2 },
      idempotency: { mode: IdempotencyMode.lock },
      timeoutMs: 5_000,
      handler: async ({ tenant }, ctx) => {
        runs.push({ tenant, attempt: ctx.attempt });
        running.set(tenant, (running.get(tenant) ?? 0) + 1);
        maxRunning.set(tenant, Math.max(maxRunning.get(tenant) ?? 0, running.get(tenant) ?? 0));
        await new Promise((resolve) => setTimeout(resolve, 150));
        running.set(tenant, (running.get(tenant) ?? 0) - 1);
      },
    });
    const harness = await consumerHarness({ tasks: [task], maxHopSeconds: 1 });
    const tenants = ['acme', 'globex', 'initech'];
    const perTenant = 12;
    for (const tenant of tenants) {
      for (let i = 0; i < perTenant; i += 1) {
        await harness.send('normal', { task: task.name, tenant, payload: { tenant } });
      }
    }
    // Four consumers, each its own handler (own caches), polling like four event source pollers.
    const consumers = Array.from({ length: 4 }, () => harness.makeHandler());
    const deferred: string[] = [];
    const total = tenants.length * perTenant;
    await Promise.all(
      consumers.map(async (handler) => {
        const deadline = Date.now() + 40_000;
        while (runs.length < total && Date.now() < deadline) {
          const event = await harness.receive('normal', 10, 1);
          if (event.Records.length === 0) continue;
          await harness.invoke(event, handler);
          deferred.push(...outcomesOf(event).filter((o) => o === DeferCause.tenantBusy));
        }
      }),
    );

    expect(runs).toHaveLength(total);
    for (const tenant of tenants) {
      expect(runs.filter((r) => r.tenant === tenant)).toHaveLength(perTenant);
      expect(maxRunning.get(tenant)).toBeLessThanOrEqual(2);
    }
    // The limit was reached (the consumers did overlap), never passed.
    expect(Math.max(...maxRunning.values())).toBe(2);
    // Deferred, and no attempt spent: every run is its task's first attempt.
    expect(deferred.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.attempt === 1)).toBe(true);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('keeps tenants apart: a busy tenant does not hold back another', async () => {
    const started: string[] = [];
    const release = { go: () => {} };
    const gate = new Promise<void>((resolve) => {
      release.go = resolve;
    });
    const task = defineTask({
      name: `tenant-gate-${randomUUID().slice(0, 6)}`,
      schema: z.object({ tenant: z.string() }),
      concurrency: { perTenant: 1 },
      handler: async ({ tenant }) => {
        started.push(tenant);
        if (tenant === 'noisy') await gate;
      },
    });
    const harness = await consumerHarness({ tasks: [task], maxHopSeconds: 1 });
    await harness.send('high', { task: task.name, tenant: 'noisy', payload: { tenant: 'noisy' } });
    const first = harness.invoke(await waitFor(() => receiveSome(harness, 'high')));
    await waitFor(() => started.includes('noisy'), { message: 'the noisy run to start' });

    await harness.send('high', { task: task.name, tenant: 'noisy', payload: { tenant: 'noisy' } });
    await harness.send('high', { task: task.name, tenant: 'quiet', payload: { tenant: 'quiet' } });
    const second = await waitFor(() => receiveSome(harness, 'high', 2));
    await harness.invoke(second);
    const outcomes = outcomesOf(second);
    release.go();
    await first;

    expect(started).toEqual(['noisy', 'quiet']);
    expect(outcomes.sort()).toEqual(['succeeded', DeferCause.tenantBusy].sort());
  });

  it('gives each tenant its own token bucket (rateLimit.perTenant)', async () => {
    const runs: string[] = [];
    const task = defineTask({
      name: `tenant-rate-${randomUUID().slice(0, 6)}`,
      schema: z.object({ tenant: z.string() }),
      rateLimit: { perTenant: { perSecond: 0.5, burst: 2 } },
      handler: ({ tenant }) => {
        runs.push(tenant);
      },
    });
    const harness = await consumerHarness({ tasks: [task], maxHopSeconds: 1 });
    for (const tenant of ['a', 'a', 'a', 'a', 'b', 'b']) {
      await harness.send('critical', { task: task.name, tenant, payload: { tenant } });
    }
    const event = await waitFor(() => receiveSome(harness, 'critical', 6));
    await harness.invoke(event);

    expect(runs.filter((t) => t === 'a')).toHaveLength(2);
    expect(runs.filter((t) => t === 'b')).toHaveLength(2);
    expect(outcomesOf(event).filter((o) => o === DeferCause.rateLimited)).toHaveLength(2);
  });

  it('dead-letters a message whose tenant breaks the contract, with a readable reason', async () => {
    const task = defineTask({ name: 'tenant-any', schema: z.unknown(), handler: () => undefined });
    const harness = await consumerHarness({ tasks: [task] });
    await harness.send('low', { task: task.name, tenant: 'has space', payload: null });
    await harness.invoke(await waitFor(() => receiveSome(harness, 'low')));

    const [letter] = await waitFor(async () => {
      const letters = await harness.deadLetters();
      return letters.length > 0 ? letters : undefined;
    });
    expect(letter?.MessageAttributes?.['tierq-reason']?.StringValue).toBe('invalid-envelope');
    expect(letter?.MessageAttributes?.['tierq-error']?.StringValue).toContain('field "tenant" must be');
  });
});
