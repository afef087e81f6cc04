/**
 * Which Node.js binary runs a function's sandboxes: the major its Lambda runtime names
 * (`nodejs22.x` → Node 22) wherever this machine has one, else this process's own Node, said so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The Node.js binary chosen for a runtime, and how it was found. */
export interface NodeBinary {
  /** Absolute path of the executable. */
  readonly path: string;
  /** `process.version` of that binary, e.g. `v22.23.3`. */
  readonly version: string;
  /** The major the runtime asks for, e.g. 22 for `nodejs22.x`. */
  readonly wantedMajor: number;
  /**
   * Where it came from: `env` (`TIERQ_NODE_<major>`), `package` (the `node` npm package),
   * `self` (this process's Node has the right major) or `fallback` (it has not: wrong major).
   */
  readonly source: 'env' | 'package' | 'self' | 'fallback';
}

const RUNTIME = /^nodejs(\d+)\.x$/;
/** Per major and `TIERQ_NODE_<major>` value, so a changed variable is looked up again. */
const found = new Map<string, NodeBinary>();

/**
 * Finds the Node.js binary for a Lambda runtime, in this order: the path in the environment
 * variable `TIERQ_NODE_<major>`; the binary of a `node` npm package (`npm i node@22`) resolvable
 * from the working directory or from this project; this process's own Node if its major
 * matches; else this process's Node anyway, with `source: 'fallback'` so the caller can say so.
 * A `TIERQ_NODE_<major>` that is missing or of another major is a configuration error and throws.
 * Each answer is kept for the life of the process (running a binary's `--version` takes ~40 ms).
 *
 * @example
 * const node = nodeBinaryFor('nodejs22.x'); // { path: '…/bin/node', version: 'v22.23.3', source: 'env', … }
 */
export function nodeBinaryFor(runtime: string, env: NodeJS.ProcessEnv = process.env): NodeBinary {
  const match = RUNTIME.exec(runtime);
  if (match === null) {
    throw new Error(
      `runtime ${runtime} is not a Node.js runtime; the local runner runs Node.js functions only`,
    );
  }
  const wantedMajor = Number(match[1]);
  const key = `${wantedMajor}:${env[`TIERQ_NODE_${wantedMajor}`] ?? ''}`;
  const cached = found.get(key);
  if (cached !== undefined) return cached;
  const binary = lookUp(wantedMajor, env);
  found.set(key, binary);
  return binary;
}

function lookUp(wantedMajor: number, env: NodeJS.ProcessEnv): NodeBinary {
  const variable = `TIERQ_NODE_${wantedMajor}`;
  const fromEnv = env[variable];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${variable}=${fromEnv}: no such file`);
    const version = versionOf(fromEnv);
    if (majorOf(version) !== wantedMajor) {
      throw new Error(`${variable}=${fromEnv} is Node ${version}, not Node ${wantedMajor}`);
    }
    return { path: fromEnv, version, wantedMajor, source: 'env' };
  }
  const packaged = packagedNode();
  if (packaged !== undefined && majorOf(packaged.version) === wantedMajor) {
    return { ...packaged, wantedMajor, source: 'package' };
  }
  const source = majorOf(process.version) === wantedMajor ? 'self' : 'fallback';
  return { path: process.execPath, version: process.version, wantedMajor, source };
}

/**
 * The `node` npm package's binary, if one resolves. Its package.json version says which Node it
 * is without running it; the binary must exist, since npm may skip the package's install script.
 */
function packagedNode(): { path: string; version: string } | undefined {
  for (const from of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      const manifest = createRequire(from).resolve('node/package.json');
      const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
      const path = join(dirname(manifest), 'bin', 'node');
      if (typeof version === 'string' && existsSync(path)) return { path, version: `v${version}` };
    } catch {
      // Not installed where this looked: try the next place.
    }
  }
  return undefined;
}

function versionOf(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
}

function majorOf(version: string): number {
  return Number(/^v?(\d+)/.exec(version)?.[1] ?? Number.NaN);
}

/**
 * One phrase for progress lines: which Node runs the function, and why when it is not the one
 * the runtime names.
 *
 * @example
 * describeNode(node); // 'Node v22.23.3 from TIERQ_NODE_22'
 */
export function describeNode(node: NodeBinary): string {
  switch (node.source) {
    case 'env':
      return `Node ${node.version} from TIERQ_NODE_${node.wantedMajor}`;
    case 'package':
      return `Node ${node.version} from the npm package node`;
    case 'self':
      return `Node ${node.version}`;
    case 'fallback':
      return (
        `Node ${node.version}: no Node ${node.wantedMajor} found ` +
        `(set TIERQ_NODE_${node.wantedMajor} to one, or npm i node@${node.wantedMajor})`
      );
  }
}
