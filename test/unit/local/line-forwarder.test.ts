import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forwardLines } from '../../../local/sandbox/line-forwarder.js';

/** Feeds chunks through a stream and resolves with what was written, once the stream ended. */
async function forwarded(chunks: readonly (string | Buffer)[]): Promise<string[]> {
  const stream = new PassThrough();
  const writes: string[] = [];
  const ended = new Promise((resolve) => stream.on('end', resolve));
  forwardLines(stream, (line) => writes.push(line));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return writes;
}

describe('forwardLines', () => {
  it('writes each complete line once, however the chunks split and join lines', async () => {
    expect(await forwarded(['{"_aws":', '{"a":1}}\nsecond', ' line\nthird\n'])).toEqual([
      '{"_aws":{"a":1}}\n',
      'second line\n',
      'third\n',
    ]);
  });

  it('ends a last line without a newline when the stream ends', async () => {
    expect(await forwarded(['done', ' at last'])).toEqual(['done at last\n']);
  });

  it('keeps a character whose bytes arrive in two chunks whole', async () => {
    const bytes = Buffer.from('é\n');
    expect(await forwarded([bytes.subarray(0, 1), bytes.subarray(1)])).toEqual(['é\n']);
  });

  it('keeps empty lines', async () => {
    expect(await forwarded(['a\n\nb\n'])).toEqual(['a\n', '\n', 'b\n']);
  });
});
