#!/usr/bin/env node
// The `tierq` command. The CLI is TypeScript, run through tsx like the rest of the tooling.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('./main.ts');
const code = await main(process.argv);
// Open SDK sockets or a --watch timer must not keep a finished command alive.
process.exit(code);
