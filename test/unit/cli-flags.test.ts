import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseFlags, parseGoBool, parseGoInt, type FlagSpec } from '../../src/cli/flags.js';

const specs: FlagSpec[] = [
  { name: 'interactive', short: 'i', kind: 'bool', usage: '' },
  { name: 'tty', short: 't', kind: 'bool', usage: '' },
  { name: 'detach', short: 'd', kind: 'bool', usage: '' },
  { name: 'rm', kind: 'bool', usage: '' },
  { name: 'env', short: 'e', kind: 'list', usage: '' },
  { name: 'publish', short: 'p', kind: 'list', usage: '' },
  { name: 'name', kind: 'string', usage: '' },
  { name: 'memory', short: 'm', kind: 'string', usage: '' },
  { name: 'last', short: 'n', kind: 'int', default: -1, usage: '' },
  { name: 'network', kind: 'list', usage: '' },
  { name: 'net', kind: 'list', dest: 'network', hidden: true, usage: '' },
  { name: 'time', kind: 'int', deprecated: 'use --timeout instead', usage: '' },
];

interface Case {
  argv: string[];
  interspersed?: boolean;
  want?: Record<string, unknown>;
  args?: string[];
  err?: string;
}

const cases: Case[] = [
  { argv: ['-itd', 'busybox'], want: { interactive: true, tty: true, detach: true }, args: ['busybox'] },
  { argv: ['-it', 'busybox', 'sh'], want: { interactive: true, tty: true, detach: false }, args: ['busybox', 'sh'] },
  { argv: ['-e', 'X=1', '-e', 'Y=2'], want: { env: ['X=1', 'Y=2'] }, args: [] },
  { argv: ['-eX=1', '--env=Y=2', '--env', 'Z'], want: { env: ['X=1', 'Y=2', 'Z'] } },
  { argv: ['-e=X=1'], want: { env: ['X=1'] } },
  { argv: ['--name=x'], want: { name: 'x' } },
  { argv: ['--name', 'x'], want: { name: 'x' } },
  { argv: ['--name='], want: { name: '' } },
  { argv: ['-p80:80', '-p', '8080:80/udp'], want: { publish: ['80:80', '8080:80/udp'] } },
  { argv: ['--rm=false'], want: { rm: false } },
  { argv: ['--rm=true', '--rm=0', '--rm=T'], want: { rm: true } },
  { argv: ['--rm', 'false'], want: { rm: true }, args: ['false'] },
  { argv: ['-n', '3'], want: { last: 3 } },
  { argv: ['-n3'], want: { last: 3 } },
  { argv: [], want: { last: -1, name: '', rm: false, env: [] } },
  { argv: ['--net', 'a', '--network=b'], want: { network: ['a', 'b'] } },
  // "--" ends the flags; what follows is arguments even if it looks like flags.
  { argv: ['--rm', '--', '-it', 'x'], want: { rm: true, interactive: false }, args: ['-it', 'x'] },
  { argv: ['-', '--rm'], want: { rm: true }, args: ['-'] },
  // Interspersed (the default) vs stopping at the first positional (run/create/exec).
  { argv: ['a', '--rm', 'b'], want: { rm: true }, args: ['a', 'b'] },
  { argv: ['busybox', '--rm', '-it'], interspersed: false, want: { rm: false, interactive: false }, args: ['busybox', '--rm', '-it'] },
  { argv: ['--rm', 'busybox', 'ls', '-l'], interspersed: false, want: { rm: true }, args: ['busybox', 'ls', '-l'] },
  // Errors, in pflag's words.
  { argv: ['--foo'], err: 'unknown flag: --foo' },
  { argv: ['--foo=bar'], err: 'unknown flag: --foo' },
  { argv: ['-x'], err: "unknown shorthand flag: 'x' in -x" },
  { argv: ['-itx'], err: "unknown shorthand flag: 'x' in -x" },
  { argv: ['--name'], err: 'flag needs an argument: --name' },
  { argv: ['-e'], err: "flag needs an argument: 'e' in -e" },
  { argv: ['-ie'], err: "flag needs an argument: 'e' in -e" },
  { argv: ['---x'], err: 'bad flag syntax: ---x' },
  { argv: ['--=x'], err: 'bad flag syntax: --=x' },
  { argv: ['--rm=yes'], err: 'invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax' },
  { argv: ['-n', 'x'], err: 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax' },
  { argv: ['-n', '99999999999999999999'], err: 'invalid argument "99999999999999999999" for "-n, --last" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range' },
];

for (const c of cases) {
  test(`parseFlags ${JSON.stringify(c.argv)}${c.interspersed === false ? ' (non-interspersed)' : ''}`, () => {
    if (c.err) {
      assert.throws(() => parseFlags(specs, c.argv, { interspersed: c.interspersed }), (e: unknown) => e instanceof FlagError && e.message === c.err);
      return;
    }
    const f = parseFlags(specs, c.argv, { interspersed: c.interspersed });
    for (const [k, v] of Object.entries(c.want ?? {})) assert.deepEqual(f.get(k), v, k);
    if (c.args) assert.deepEqual(f.args, c.args);
  });
}

test('changed() tracks flags seen, shared destinations and deprecation notices', () => {
  const warnings: string[] = [];
  const f = parseFlags(specs, ['--net', 'x', '--time', '3'], { warn: (l) => warnings.push(l) });
  assert.equal(f.changed('net'), true);
  assert.equal(f.changed('network'), true);
  assert.equal(f.changed('name'), false);
  assert.equal(f.number('time'), 3);
  assert.deepEqual(warnings, ['Flag --time has been deprecated, use --timeout instead']);
});

test('argsLenAtDash records where "--" was', () => {
  assert.equal(parseFlags(specs, ['a', '--', 'b']).argsLenAtDash, 1);
  assert.equal(parseFlags(specs, ['a', 'b']).argsLenAtDash, -1);
});

test('Go number and bool syntax', () => {
  assert.equal(parseGoInt('0x10'), 16);
  assert.equal(parseGoInt('010'), 8);
  assert.equal(parseGoInt('-1_000'), -1000);
  assert.equal(parseGoInt('+7'), 7);
  assert.throws(() => parseGoInt(''), /invalid syntax/);
  assert.throws(() => parseGoInt('1.5'), /invalid syntax/);
  assert.throws(() => parseGoInt('128', 8), /value out of range/);
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(t), true);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(f), false);
  assert.throws(() => parseGoBool('yes'), /strconv.ParseBool: parsing "yes": invalid syntax/);
});
