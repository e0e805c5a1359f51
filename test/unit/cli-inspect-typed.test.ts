import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileStrict, run } from '../../src/cli/formatter.js';
import { typedView } from '../../src/cli/inspect-typed.js';

// docker inspect -f runs on its typed struct first: a key missing from a Go map prints
// "<no value>", a missing struct field falls back to the raw JSON's missingkey=error.
const ctr = {
  Name: '/web',
  Config: { Image: 'busybox', Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} } },
  HostConfig: { LogConfig: { Type: 'json-file', Config: {} } },
  NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] }, Networks: { bridge: { IPAddress: '172.17.0.2' } } },
};

test('typedView: Go maps of the inspect structs give <no value> for a missing key', () => {
  const cases: Array<[string, string]> = [
    ['{{.Config.Labels.missing}}', '<no value>'],
    ['{{.Config.Labels.a}}', 'b'],
    ['{{.HostConfig.LogConfig.Config.max}}', '<no value>'],
    ['{{.NetworkSettings.Networks.nosuch}}', '<no value>'],
    ['{{.NetworkSettings.Networks.bridge.IPAddress}}', '172.17.0.2'],
    ['{{json .Config.Labels}}|{{len .Config.Labels}}|{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{end}}', '{"a":"b"}|1|a=b'],
    ['{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}', ' 80/tcp -> 8080 '],
  ];
  for (const [tpl, want] of cases) assert.equal(run(compileStrict(tpl), typedView(ctr)), want, tpl);
});

test('typedView: a null map (Labels of an image without labels) is a nil Go map', () => {
  const img = { Config: { Labels: null } };
  const cases: Array<[string, string]> = [
    ['{{.Config.Labels.x}}', '<no value>'],
    ['{{json .Config.Labels}}', 'null'],
    ['{{len .Config.Labels}}{{range .Config.Labels}}x{{end}}{{if .Config.Labels}}y{{end}}', '0'],
  ];
  for (const [tpl, want] of cases) assert.equal(run(compileStrict(tpl), typedView(img)), want, tpl);
});

test('typedView: structs keep missingkey=error; the raw data is left as it was', () => {
  for (const tpl of ['{{.Nope}}', '{{.Config.Nope}}', '{{.HostConfig.LogConfig.Nope}}', '{{.NetworkSettings.Networks.bridge.Nope}}']) {
    assert.throws(() => run(compileStrict(tpl), typedView(ctr)), /map has no entry for key "Nope"/, tpl);
  }
  assert.throws(() => run(compileStrict('{{.Config.Labels.missing}}'), ctr), /map has no entry for key "missing"/);
  assert.deepEqual(typedView(ctr), ctr);
});
