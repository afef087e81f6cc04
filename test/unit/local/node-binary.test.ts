import { describe, expect, it } from 'vitest';
import { describeNode, nodeBinaryFor } from '../../../local/sandbox/node-binary.js';

/** This machine's Node: a binary whose major is known without installing another. */
const ownMajor = Number(process.versions.node.split('.')[0]);

describe('nodeBinaryFor', () => {
  it('takes TIERQ_NODE_<major> first and checks that it is that major', () => {
    const node = nodeBinaryFor(`nodejs${ownMajor}.x`, { [`TIERQ_NODE_${ownMajor}`]: process.execPath });

    expect(node).toEqual({
      path: process.execPath,
      version: process.version,
      wantedMajor: ownMajor,
      source: 'env',
    });
    expect(describeNode(node)).toBe(`Node ${process.version} from TIERQ_NODE_${ownMajor}`);
  });

  it('refuses a TIERQ_NODE_<major> of another major, or one that does not exist', () => {
    const other = ownMajor + 1;
    expect(() => nodeBinaryFor(`nodejs${other}.x`, { [`TIERQ_NODE_${other}`]: process.execPath })).toThrow(
      `is Node ${process.version}, not Node ${other}`,
    );
    expect(() => nodeBinaryFor('nodejs22.x', { TIERQ_NODE_22: '/nonexistent/node' })).toThrow('no such file');
  });

  it("falls back to this process's Node when no binary of the runtime's major is found, and says so", () => {
    const node = nodeBinaryFor('nodejs99.x', {});

    expect(node).toMatchObject({ path: process.execPath, version: process.version, source: 'fallback' });
    expect(describeNode(node)).toContain('no Node 99 found (set TIERQ_NODE_99 to one, or npm i node@99)');
  });

  it('refuses a runtime that is not Node.js', () => {
    expect(() => nodeBinaryFor('python3.13', {})).toThrow('not a Node.js runtime');
  });
});
