/**
 * Writes the README's dashboard screenshots (docs/dashboard-overview.png, light scheme, and
 * docs/dashboard-dead-letters.png, dark scheme): the local stack with its demo workload for a
 * minute, the dashboard beside it, and headless Chromium (as in the browser tests) to look at it.
 * `npm run screenshots`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '../cli/connect.js';
import { startDashboard } from '../dashboard/server.js';
import { startMonitorFile } from '../local/monitor-file.js';
import { startLocalStack } from '../local/stack.js';
import { tapTaskMetrics } from '../local/task-metrics-tap.js';
import { launchBrowser } from '../test/helpers/browser.js';

const WARM_UP_MS = Number(process.env.SCREENSHOT_WARM_UP_MS ?? 60_000);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const dir = await mkdtemp(join(tmpdir(), 'tierq-screenshots-'));
await mkdir(join(dir, '.tierq'));
const tap = tapTaskMetrics();
const stack = await startLocalStack({
  demo: true,
  stateFile: join(dir, '.tierq', 'local.json'),
  functionEnvironment: { POWERTOOLS_METRICS_DISABLED: 'false' },
  logLevel: 'SILENT',
});
const monitor = startMonitorFile({
  path: join(dir, '.tierq', 'monitor.json'),
  stack,
  counts: tap.counts,
  latencies: tap.latencies,
});
const dashboard = await startDashboard({ target: await connect({}, dir) });
const browser = await launchBrowser();
try {
  const light = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  // Opened at once, so the charts cover the whole warm-up.
  await light.goto(dashboard.url);
  await sleep(WARM_UP_MS);
  await light.screenshot({ path: 'docs/dashboard-overview.png', fullPage: true });

  const dark = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
  await dark.goto(dashboard.url);
  await dark.evaluate('location.hash = "dead-letters"');
  const first = dark.locator('#letters tbody tr').first().getByRole('button');
  await first.waitFor();
  await first.click();
  await dark.screenshot({ path: 'docs/dashboard-dead-letters.png', fullPage: true });
  process.stdout.write('wrote docs/dashboard-overview.png and docs/dashboard-dead-letters.png\n');
} finally {
  await browser.close();
  await dashboard.stop();
  await monitor.stop();
  await stack.stop();
  tap.release();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
