#!/usr/bin/env node
/**
 * The `tierq` command (the package's `bin`, run as built JavaScript from dist/cli/bin.js).
 */
// Set before the SDK loads: Node 20 is past its end of life, and the SDK says so on every client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('./main.js');
const code = await main(process.argv);
// Open SDK sockets or a --watch timer must not keep a finished command alive.
process.exit(code);
