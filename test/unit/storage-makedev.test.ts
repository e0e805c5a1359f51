import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makedev } from '../../src/storage/syscalls.js';

test('makedev encodes like glibc gnu_dev_makedev', () => {
  const cases: Array<[number, number, bigint]> = [
    [0, 0, 0n], // overlay whiteout
    [1, 3, 0x103n], // /dev/null
    [7, 0, 0x700n], // loop0
    [259, 65536, 0x10010300n], // large minor spills above the legacy 8 bits
    [4096, 0, 0x100000000000n], // large major goes to the high word
  ];
  for (const [major, minor, want] of cases) assert.equal(makedev(major, minor), want, `${major}:${minor}`);
});
