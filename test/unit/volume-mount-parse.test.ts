import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convertTmpfsOptions,
  mergeTmpfsOptions,
  parseApiMount,
  parseBind,
  parseVolumesFrom,
  readWrite,
  validMountMode,
  validateDestination,
} from '../../src/volume/mount-parse.js';
import { sortMounts } from '../../src/volume/container-mounts.js';

// -v as moby's linux parser reads it: the cases of its parser tests.
const bindCases: Array<{ raw: string; want: Partial<ReturnType<typeof parseBind>> }> = [
  { raw: '/tmp:/test', want: { type: 'bind', source: '/tmp', destination: '/test', rw: true, mode: '', propagation: 'rprivate', createSource: true } },
  { raw: '/tmp:/test:ro', want: { type: 'bind', rw: false, mode: 'ro' } },
  { raw: '/tmp:/test:rw', want: { type: 'bind', rw: true, mode: 'rw' } },
  { raw: '/tmp:/test:ro,rshared', want: { type: 'bind', rw: false, propagation: 'rshared' } },
  { raw: '/tmp/:/test/', want: { source: '/tmp', destination: '/test' } },
  { raw: '/vol/index.html:/usr/share/nginx/html/index.html', want: { type: 'bind', source: '/vol/index.html' } },
  { raw: 'name:/data', want: { type: 'volume', source: 'name', destination: '/data', copyData: true, mode: '' } },
  { raw: 'name:/data:ro,nocopy', want: { type: 'volume', rw: false, copyData: false } },
  { raw: '/data', want: { type: 'volume', source: '', destination: '/data' } },
];

for (const c of bindCases) {
  test(`-v ${c.raw}`, () => {
    const got = parseBind(c.raw);
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof typeof got], v, k);
  });
}

const badBinds: Array<[string, RegExp]> = [
  ['', /invalid volume specification: ''$/],
  [':/x', /invalid volume specification: ':\/x'$/],
  ['/data:rw', /invalid volume specification: '\/data:rw'$/],
  ['/a:/b:/c:/d', /invalid volume specification/],
  ['/a:/b:xyz', /invalid mode: xyz$/],
  ['/a:/b:ro,rw', /invalid mode: ro,rw$/],
  ['/tmp:/', /invalid volume specification: '\/tmp:\/': invalid mount config for type "bind": invalid specification: destination can't be '\/'$/],
  ['/tmp:relative', /mount path must be absolute/],
  ['name:/data:rshared', /field BindOptions must not be specified/],
];
for (const [raw, re] of badBinds) {
  test(`-v ${JSON.stringify(raw)} is refused`, () => assert.throws(() => parseBind(raw), re));
}

test('--mount: each type, and the fields that do not belong', () => {
  const b = parseApiMount({ Type: 'bind', Source: '/src/', Target: '/dst', ReadOnly: true });
  assert.equal(b.source, '/src');
  assert.equal(b.rw, false);
  assert.equal(b.bindSourceMustExist, true);
  assert.equal(parseApiMount({ Type: 'bind', Source: '/s', Target: '/d', BindOptions: { CreateMountpoint: true } }).bindSourceMustExist, false);
  const v = parseApiMount({ Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } });
  assert.equal(v.copyData, false);
  assert.deepEqual(v.volumeLabels, { a: 'b' });
  assert.deepEqual(v.volumeOptions, { type: 'tmpfs', device: 'tmpfs' });
  const t = parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } });
  assert.equal(t.tmpfsOptions, 'mode=1777,size=64m');
  assert.throws(() => parseApiMount({ Type: 'bind', Target: '/d' }), /invalid mount config for type "bind": field Source must not be empty$/);
  assert.throws(() => parseApiMount({ Type: 'bind', Source: 'rel', Target: '/d' }), /invalid mount path: 'rel' mount path must be absolute/);
  assert.throws(() => parseApiMount({ Type: 'tmpfs', Source: '/x', Target: '/d' }), /field Source must not be specified/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '/d', BindOptions: {} }), /field BindOptions must not be specified/);
  assert.throws(() => parseApiMount({ Type: 'volume', Source: 'x' }), /field Target must not be empty/);
  assert.throws(() => parseApiMount({ Type: 'nfs', Target: '/d' }), /invalid mount config for type "nfs": mount type unknown$/);
  assert.throws(() => parseApiMount({ Type: 'bind', Source: '/s', Target: '/d', BindOptions: { Propagation: 'weird' } }), /invalid propagation mode: weird/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '/d', VolumeOptions: { Subpath: 'x' } }), /must not set Subpath when using anonymous volumes/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '/d', ReadOnly: true }), /^BerthError: invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes$/);
  assert.equal(parseApiMount({ Type: 'volume', Source: 'named', Target: '/d', ReadOnly: true }).rw, false);
});

test('--volumes-from: container[:ro|rw]', () => {
  assert.deepEqual(parseVolumesFrom('data'), { container: 'data', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('data:ro'), { container: 'data', mode: 'ro' });
  assert.throws(() => parseVolumesFrom(''), /volumes-from specification cannot be an empty string/);
  assert.throws(() => parseVolumesFrom('data:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom('data:nocopy'), /invalid mode: nocopy/);
  assert.throws(() => parseVolumesFrom('data:bogus'), /invalid mode: bogus/);
});

test('modes', () => {
  assert.ok(validMountMode('ro,z,rslave,nocopy'));
  assert.ok(!validMountMode('ro,rw'));
  assert.ok(!validMountMode('shared,slave'));
  assert.ok(readWrite(''));
  assert.ok(!readWrite('ro'));
  assert.ok(!readWrite('bogus'));
});

test('destinations must be absolute and not /', () => {
  validateDestination('/x');
  assert.throws(() => validateDestination('/'), /destination can't be '\/'/);
  assert.throws(() => validateDestination('//'), /destination can't be '\/'/);
  assert.throws(() => validateDestination('data'), /invalid mount path: 'data' mount path must be absolute/);
});

test('tmpfs options: ConvertTmpfsOptions and MergeTmpfsOptions', () => {
  assert.equal(convertTmpfsOptions('tmpfs', { SizeBytes: 1536 }, true), 'ro,size=1536');
  assert.equal(convertTmpfsOptions('tmpfs', { SizeBytes: 3 * 1024 * 1024 * 1024, Options: [['exec']] }, false), 'size=3g,exec');
  assert.throws(() => convertTmpfsOptions('tmpfs', { Options: [['suid']] }, false), /invalid option: suid/);
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', 'exec', 'size=1m', 'size=2m']), ['nosuid', 'nodev', 'rprivate', 'exec', 'size=2m']);
  assert.deepEqual(mergeTmpfsOptions(['rprivate', 'rshared', 'defaults']), ['rshared']);
  assert.throws(() => mergeTmpfsOptions(['foo=bar']), /invalid tmpfs option \["foo" "bar"\]/);
  assert.throws(() => mergeTmpfsOptions(['bogus']), /invalid tmpfs option \["bogus"\]/);
});

test('mounts are ordered parents first, keeping the order of equals', () => {
  const m = (d: string) => ({ destination: d });
  assert.deepEqual(sortMounts([m('/a/b/c'), m('/z'), m('/a/b'), m('/a')]).map((x) => x.destination), ['/z', '/a', '/a/b', '/a/b/c']);
});
