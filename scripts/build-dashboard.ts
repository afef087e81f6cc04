/**
 * Builds the dashboard's page into dist/dashboard/page/ (index.html, app.js with uPlot, app.css):
 * part of `npm run build`, so the package serves prebuilt files and needs no bundler at run time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePage, PAGE_FILES } from '../dashboard/assets.js';

const out = join('dist', 'dashboard', 'page');
await mkdir(out, { recursive: true });
const files = await bundlePage();
for (const name of Object.keys(PAGE_FILES)) {
  const body = files.get(name);
  if (body === undefined) throw new Error(`the page bundle has no ${name}`);
  await writeFile(join(out, name), body);
}
process.stdout.write(
  `dashboard page: ${[...files].map(([n, b]) => `${n} ${(b.length / 1024).toFixed(1)} KiB`).join(', ')}\n`,
);
