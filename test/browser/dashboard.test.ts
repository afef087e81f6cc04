/**
 * `tierq dashboard` in a real browser against a real local stack: the synthesized template on the
 * emulators, IAM enforced, the dashboard acting as the operator through `.tierq/local.json` — as
 * `npm start` runs it. The page is driven by headless Chromium; what it shows is checked against
 * the queues themselves.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect } from '../../cli/connect.js';
import { type Dashboard, startDashboard } from '../../dashboard/server.js';
import { localClientConfig } from '../../local/emulators.js';
import { startMonitorFile } from '../../local/monitor-file.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { tapTaskMetrics } from '../../local/task-metrics-tap.js';
import { loadLocalConfig } from '../../shared/connection.js';
import { createProducer, type Producer } from '../../shared/producer/producer.js';
import { uniqueName, waitFor } from '../helpers/aws.js';
import { launchBrowser } from '../helpers/browser.js';

/** Inside the project, so the bundle resolves the AWS SDK from its node_modules as in `npm start`. */
const assemblyDir = join('.tierq', `test-cdk.out-${randomUUID().slice(0, 8)}`);

let dir: string;
let stack: LocalStack;
let tap: ReturnType<typeof tapTaskMetrics>;
let monitor: { stop(): Promise<void> };
let dashboard: Dashboard;
let browser: Browser;
let page: Page;
let producer: Producer;
let sqs: SQSClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tierq-dashboard-'));
  await mkdir(join(dir, '.tierq'));
  tap = tapTaskMetrics();
  stack = await startLocalStack({
    emulators: inject('emulators'),
    outputDir: assemblyDir,
    namePrefix: uniqueName('dash'),
    stateFile: join(dir, '.tierq', 'local.json'),
    // The consumer's EMF metrics feed the per-task figures, as under `npm start`.
    functionEnvironment: { POWERTOOLS_METRICS_DISABLED: 'false' },
  });
  monitor = startMonitorFile({
    path: join(dir, '.tierq', 'monitor.json'),
    stack,
    counts: tap.counts,
    latencies: tap.latencies,
    intervalMs: 1_000,
  });
  dashboard = await startDashboard({ target: await connect({}, dir), intervalMs: 1_000, holdSeconds: 10 });
  producer = createProducer(await loadLocalConfig(join(dir, '.tierq', 'local.json')));
  sqs = new SQSClient({ ...localClientConfig(stack.endpoints.sqs), region: stack.region });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(dashboard.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await monitor?.stop();
  await stack?.stop();
  tap?.release();
  sqs?.destroy();
  await rm(assemblyDir, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

async function dlqDepth(): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.dlq,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

/** A raw request to the dashboard, with exactly the headers given (fetch would not let us set Host). */
function raw(options: {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: dashboard.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function show(section: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(section)}`);
  await page.locator(`#${section}`).waitFor({ state: 'visible' });
}

/** Looks `key` up in the Tasks section and returns what the page shows once it has answered. */
async function lookUp(key: string): Promise<string | null> {
  await page.locator('#task-lookup input[name=key]').fill(key);
  await page.locator('#task-lookup button').click();
  await page.locator('#task-result[data-state=done]').waitFor();
  return page.locator('#task-result').textContent();
}

describe('the dashboard overview', () => {
  it('shows the tasks a test enqueued, per tier, and charts them', async () => {
    // Delayed for a minute, so they stay put where the page can count them.
    for (let i = 0; i < 3; i++)
      await producer.enqueue('echo', { i }, { priority: 'critical', delay: 60_000 });
    for (let i = 0; i < 2; i++) await producer.enqueue('echo', { i }, { priority: 'low', delay: 60_000 });
    // And some that run now, for the per-task figures.
    for (let i = 0; i < 4; i++) await producer.enqueue('sleep', { ms: 50 }, { priority: 'high' });
    await show('overview');

    const delayed = (tier: string) => page.locator('#tiers tbody tr', { hasText: tier }).locator('td').nth(2);
    await expect.poll(() => delayed('critical').textContent(), { timeout: 20_000 }).toBe('3');
    await expect.poll(() => delayed('low').textContent()).toBe('2');
    expect(await delayed('high').textContent()).toBe('0');

    const sleepRow = page.locator('#per-task tbody tr', { hasText: 'sleep' });
    await expect.poll(() => sleepRow.locator('td').first().textContent(), { timeout: 30_000 }).toBe('4');
    // Latency p50 of the four sleeps: at least their 50 ms.
    const p50 = await sleepRow.locator('td').nth(6).textContent();
    expect(Number.parseInt(p50 ?? '', 10)).toBeGreaterThanOrEqual(50);
    // One uPlot chart per figure, each drawn on a canvas, and the DLQ alarm's state.
    expect(await page.locator('#charts figure canvas').count()).toBeGreaterThanOrEqual(6);
    await expect
      .poll(() => page.locator('#alarms tbody').textContent())
      .toMatch(/TaskQueueDeadLetterAlarm\w*\s*(OK|ALARM)/);
  });

  it('refreshes without reloading the page', async () => {
    await show('overview');
    // A reload would lose this; the page's own refresh keeps it.
    await page.evaluate('window.marker = 42');
    const before = await page.locator('#updated').textContent();
    await expect.poll(() => page.locator('#updated').textContent(), { timeout: 10_000 }).not.toBe(before);
    expect(await page.evaluate('window.marker')).toBe(42);
  });

  it('can be worked from the keyboard', async () => {
    await show('overview');
    await page.locator('nav a', { hasText: 'Overview' }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('#dead-letters').waitFor({ state: 'visible' });
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Dead letters');
  });
});

describe('the dead letters view', () => {
  it('lists a dead letter with its reason, and replaying it from the page runs it and empties the DLQ', async () => {
    const id = `dash-replay-${randomUUID().slice(0, 8)}`;
    // Its dependency is "down" for 3 s: dead-lettered now, fine once replayed.
    const until = new Date(Date.now() + 3_000).toISOString();
    await producer.enqueue('reject', { why: 'the mail server is down', until }, { id, priority: 'high' });
    await show('dead-letters');
    const letterRow = page.locator('#letters tbody tr', { hasText: id });
    await waitFor(
      async () => {
        await page.locator('#dlq-refresh').click();
        return (await letterRow.count()) === 1;
      },
      { timeoutMs: 20_000, intervalMs: 500, message: `dead letter ${id} in the page` },
    );
    expect(await letterRow.textContent()).toContain('permanent-error');
    expect(await letterRow.textContent()).toContain('high');
    await letterRow.getByRole('button', { name: `details of ${id}` }).click();
    expect(await page.locator('#letter-fields').textContent()).toContain('the mail server is down');
    expect(await page.locator('#letter-body').textContent()).toContain(`"id": "${id}"`);

    await waitFor(() => Date.now() > Date.parse(until), {
      timeoutMs: 5_000,
      message: 'the dependency to be back',
    });
    await letterRow.getByRole('checkbox').check();
    expect(await page.locator('#dlq-scope').textContent()).toContain('the 1 selected letter(s)');
    await page.locator('#replay').click();
    await page.locator('#confirm-ok').click();
    await expect
      .poll(() => page.locator('#dlq-progress').textContent(), { timeout: 20_000 })
      .toBe('replay done: replayed 1, skipped 0, failed 0');

    await show('tasks');
    await expect.poll(() => lookUp(id), { timeout: 20_000 }).toContain('succeeded');
    expect(await page.locator('#task-result').textContent()).toContain(`{"acceptedAfter":"${until}"}`);
    await expect.poll(dlqDepth, { timeout: 10_000 }).toBe(0);
    await show('dead-letters');
    await page.locator('#dlq-refresh').click();
    await expect.poll(() => page.locator('#letters tbody').textContent()).toContain('no letters that match');
  });

  it('asks before purging, and purges only once confirmed', async () => {
    for (let i = 0; i < 2; i++) {
      await producer.enqueue(
        'reject',
        { why: `purge me ${i}` },
        { id: `dash-purge-${i}-${randomUUID().slice(0, 8)}` },
      );
    }
    await expect.poll(dlqDepth, { timeout: 20_000 }).toBe(2);
    await show('dead-letters');
    await page.locator('#dlq-filter input[name=task]').fill('reject');
    await page.locator('#dlq-filter button[type=submit]').click();
    await expect.poll(() => page.locator('#letters tbody tr').count()).toBe(2);

    await page.locator('#purge').click();
    const dialog = page.locator('#confirm');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain('Delete every dead letter with task reject for good?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('#dlq-progress').textContent()).toBe('purge cancelled');
    expect(await dlqDepth()).toBe(2);

    await page.locator('#purge').click();
    await page.locator('#confirm-ok').click();
    await expect
      .poll(() => page.locator('#dlq-progress').textContent(), { timeout: 20_000 })
      .toBe('purge done: deleted 2 letter(s)');
    expect(await dlqDepth()).toBe(0);
  });
});

describe('tasks and enqueue', () => {
  it('enqueues from the page only with a valid JSON payload, and looks the task up by id', async () => {
    const id = `dash-enqueue-${randomUUID().slice(0, 8)}`;
    await show('enqueue');
    const form = page.locator('#enqueue-form');
    await form.locator('input[name=task]').fill('echo');
    await form.locator('select[name=tier]').selectOption('low');
    await form.locator('input[name=id]').fill(id);
    await form.locator('textarea[name=payload]').fill('{"hello": ');
    await form.getByRole('button', { name: 'Enqueue' }).click();
    expect(await page.locator('#payload-error').textContent()).toMatch(/not valid JSON/);
    expect(await page.locator('#enqueue-result').textContent()).toBe('');

    await form.locator('textarea[name=payload]').fill('{"hello": "world"}');
    await form.getByRole('button', { name: 'Enqueue' }).click();
    await expect.poll(() => page.locator('#enqueue-result').textContent()).toBe(`sent ${id}`);

    await show('tasks');
    await expect.poll(() => lookUp(id), { timeout: 20_000 }).toContain('succeeded');
    const result = await page.locator('#task-result').textContent();
    expect(result).toContain('{"hello":"world"}');
    expect(result).toMatch(/attempts\s*1/);
  });

  it('shows what the server refused: an unknown tier', async () => {
    const answer = await page.evaluate(async () => {
      const r = await fetch('/api/enqueue', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'echo', tier: 'urgent', payload: {} }),
      });
      return { status: r.status, body: await r.json() };
    });
    expect(answer).toEqual({
      status: 400,
      body: { error: expect.stringContaining('unknown priority "urgent"') },
    });
  });
});

describe('the dashboard server', () => {
  const token = () => dashboard.token;
  const host = () => `127.0.0.1:${dashboard.port}`;

  it('refuses a request without the token, or with a wrong one', async () => {
    expect(await raw({ path: '/api/overview', headers: { host: host() } })).toEqual({
      status: 401,
      body: JSON.stringify({ error: 'a token is required: open the URL `tierq dashboard` printed' }),
    });
    expect((await raw({ path: '/', headers: { host: host() } })).status).toBe(401);
    expect((await raw({ path: '/api/overview?token=nope', headers: { host: host() } })).status).toBe(401);
    const fresh = await browser.newPage();
    const response = await fresh.goto(`http://${host()}/`);
    expect(response?.status()).toBe(401);
    await fresh.close();
  });

  it('moves the token from the URL into a same-site cookie', async () => {
    const answer = await raw({ path: `/?token=${token()}`, headers: { host: host() } });
    expect(answer.status).toBe(303);
    const page2 = await browser.newPage();
    await page2.goto(dashboard.url);
    expect(page2.url()).toBe(`http://${host()}/`);
    await page2.close();
  });

  it('refuses a Host that is not its own (DNS rebinding)', async () => {
    const answer = await raw({
      path: `/api/config?token=${token()}`,
      headers: { host: `evil.example:${dashboard.port}` },
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(/Host "evil.example:\d+" is not this dashboard/);
  });

  it('refuses state-changing requests from another origin, or not as JSON POSTs', async () => {
    const post = (headers: Record<string, string>, body = '{"confirm":true}') =>
      raw({
        method: 'POST',
        path: '/api/dead-letters/purge',
        headers: { host: host(), 'x-tierq-token': token(), 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await post({ origin: `http://${host()}`, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ origin: `http://${host()}`, 'content-type': 'text/plain' })).status).toBe(415);
    const badJson = await post({ origin: `http://${host()}` }, '{"confirm":');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).error).toMatch(/not valid JSON/);
    const unconfirmed = await post({ origin: `http://${host()}` }, '{}');
    expect(unconfirmed.status).toBe(400);
    expect(JSON.parse(unconfirmed.body).error).toContain('purging needs "confirm": true');
    const get = await raw({
      path: '/api/dead-letters/purge',
      headers: { host: host(), 'x-tierq-token': token() },
    });
    expect(get.status).toBe(405);
  });

  it('turns enqueueing off with the flag', async () => {
    const off = await startDashboard({ target: await connect({}, dir), enqueue: false });
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: off.port,
            method: 'POST',
            path: '/api/enqueue',
            headers: {
              host: `127.0.0.1:${off.port}`,
              origin: `http://127.0.0.1:${off.port}`,
              'x-tierq-token': off.token,
              'content-type': 'application/json',
            },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ task: 'echo', payload: {} }));
      });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).error).toContain('turned off');
      const other = await browser.newPage();
      await other.goto(off.url);
      await other.locator('#target').filter({ hasText: 'the local stack' }).waitFor();
      expect(await other.locator('nav a').allTextContents()).toEqual(['Overview', 'Dead letters', 'Tasks']);
      await other.close();
    } finally {
      await off.stop();
    }
  });
});
