// Preloaded into each function sandbox by the end-to-end benchmark (NODE_OPTIONS=--require):
// the consumer's SDK clients run in sandbox processes now, out of reach of the benchmark
// process's own diagnostics channels. This records, through the same `http.client.*` channels,
// every request the sandbox sends to the emulators, one JSON line per request in
// `$TIERQ_BENCH_TRACE_DIR/<pid>.jsonl`, with epoch-ms times; a first line marks the sandbox's start.
'use strict';
const diagnostics = require('node:diagnostics_channel');
const { openSync, writeSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');

const dir = process.env.TIERQ_BENCH_TRACE_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.jsonl`);
  const now = () => performance.timeOrigin + performance.now();
  const hostOf = (url) => (url ? new URL(url).host : undefined);
  const services = new Map([
    [hostOf(process.env.AWS_ENDPOINT_URL_SQS), 'sqs'],
    [hostOf(process.env.AWS_ENDPOINT_URL_DYNAMODB), 'dynamodb'],
  ]);
  const open = new Map();
  // Synchronous, one write per request: a sandbox may be killed at any time and lose nothing written.
  const fd = openSync(file, 'a');
  writeSync(fd, `${JSON.stringify({ started: performance.timeOrigin })}\n`);
  diagnostics.subscribe('http.client.request.start', ({ request }) => {
    const service = services.get(String(request.getHeader('host') ?? ''));
    if (service === undefined) return;
    const target = String(request.getHeader('x-amz-target') ?? 'unknown');
    open.set(request, { service, operation: target.slice(target.lastIndexOf('.') + 1), start: now() });
  });
  diagnostics.subscribe('http.client.response.finish', ({ request }) => {
    const traced = open.get(request);
    if (traced === undefined) return;
    open.delete(request);
    writeSync(fd, `${JSON.stringify({ ...traced, end: now() })}\n`);
  });
}
