/**
 * The page's files. The package serves those built at package build time (dist/dashboard/page/,
 * see scripts/build-dashboard.ts); run from this repository's TypeScript, the server bundles the
 * page itself with esbuild when it starts, so a change to the page needs no build step.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** File name → contents and content type. */
export type PageAssets = ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>;

const HERE = dirname(fileURLToPath(import.meta.url));
const FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');

/** The files the page consists of, and their content types. */
export const PAGE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;

/**
 * Bundles the page with esbuild (a development dependency, and an optional peer of the package):
 * `page/main.ts` with uPlot into app.js and app.css, beside page/index.html.
 *
 * @example
 * const files = await bundlePage(); // Map { 'index.html' => …, 'app.js' => …, 'app.css' => … }
 */
export async function bundlePage(): Promise<Map<string, Buffer>> {
  const { build } = await import('esbuild');
  const { createRequire } = await import('node:module');
  const page = join(HERE, 'page');
  // uPlot's own header is not a legal comment esbuild keeps: its MIT notice goes first, whole.
  const uplotLicense = await readFile(
    join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'LICENSE'),
    'utf8',
  );
  const notice = `/*! uPlot (https://github.com/leeoniya/uPlot)\n${uplotLicense.replaceAll('*/', '* /')}*/`;
  const { outputFiles } = await build({
    entryPoints: { app: join(page, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    outdir: '/',
    logLevel: 'silent',
    legalComments: 'eof',
    banner: { js: notice, css: notice },
  });
  const files = new Map<string, Buffer>([['index.html', await readFile(join(page, 'index.html'))]]);
  for (const file of outputFiles)
    files.set(file.path.slice(file.path.lastIndexOf('/') + 1), Buffer.from(file.contents));
  return files;
}

/**
 * The page's files: read from the package's build, or bundled now when running from source.
 *
 * @example
 * const assets = await loadPageAssets();
 * assets.get('app.js')?.type; // 'text/javascript; charset=utf-8'
 */
export async function loadPageAssets(): Promise<PageAssets> {
  const files = FROM_SOURCE
    ? await bundlePage()
    : new Map(
        await Promise.all(
          Object.keys(PAGE_FILES).map(
            async (name) => [name, await readFile(join(HERE, 'page', name))] as const,
          ),
        ),
      );
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [name, type] of Object.entries(PAGE_FILES)) {
    const body = files.get(name);
    if (body === undefined) throw new Error(`the dashboard page has no ${name}`);
    assets.set(name, { body, type });
  }
  return assets;
}
