/**
 * Forwards a sandbox's stdout or stderr to this process's, one write per line: the metrics tap
 * (local/task-metrics-tap.ts) and the live view (local/live-view.ts) patch `process.stdout.write`
 * and read each call as one line, e.g. one EMF document, which a pipe's chunks would split or join.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads `from` and calls `write` once per complete line, newline included; a last line without
 * a newline is written (with one) when the stream ends. `write` is called at each line, so a
 * caller passing `(line) => process.stdout.write(line)` reaches whatever patches `write` later.
 *
 * @example
 * forwardLines(child.stdout, (line) => process.stdout.write(line));
 */
export function forwardLines(from: Readable, write: (line: string) => void): void {
  // A decoder, not setEncoding on the stream: a multi-byte character split across chunks stays whole.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const flush = (text: string) => {
    const all = pending + text;
    let start = 0;
    for (let end = all.indexOf('\n'); end !== -1; end = all.indexOf('\n', start)) {
      write(all.slice(start, end + 1));
      start = end + 1;
    }
    pending = all.slice(start);
  };
  from.on('data', (chunk: Buffer) => flush(decoder.write(chunk)));
  from.on('end', () => {
    flush(decoder.end());
    if (pending.length > 0) write(`${pending}\n`);
    pending = '';
  });
}
