import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary, ImageSummary, PortSummary } from '../../src/client/types.js';
import { CONTAINER_GO_TYPE, CONTAINER_HEADERS, containerFormat, containerRow, displayablePorts, ellipsis } from '../../src/cli/container-rows.js';
import { IMAGE_HEADERS, historyRow, imageFormat, imageRows } from '../../src/cli/image-rows.js';
import { indentJson, preflightFormat, renderList, headerLabel } from '../../src/cli/formatter.js';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
const sec = (msAgo: number): number => Math.floor((NOW - msAgo) / 1000);

function ctr(over: Partial<ContainerSummary>): ContainerSummary {
  return {
    Id: '4c01db0b339c0b4e8d9f7e2c2c1b9e8e6e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b',
    Names: ['/webapp'],
    Image: 'ubuntu',
    ImageID: 'sha256:' + 'f'.repeat(64),
    Command: 'bash',
    Created: sec(17_000),
    Ports: [],
    Labels: {},
    State: 'running',
    Status: 'Up 16 seconds',
    Mounts: [],
    ...over,
  };
}

test('DisplayablePorts (docker formatter test cases)', () => {
  const cases: Array<[PortSummary[], string]> = [
    [[{ PrivatePort: 9988, Type: 'tcp' }], '9988/tcp'],
    [[{ IP: '0.0.0.0', PrivatePort: 9988, Type: 'tcp' }], '0.0.0.0:0->9988/tcp'],
    [[{ IP: '::', PrivatePort: 9988, Type: 'tcp' }], '[::]:0->9988/tcp'],
    [[{ PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' }], '9988/tcp'],
    [[{ IP: '4.3.2.1', PrivatePort: 9988, PublicPort: 8899, Type: 'tcp' }], '4.3.2.1:8899->9988/tcp'],
    [[{ IP: '::1', PrivatePort: 9988, PublicPort: 9988, Type: 'tcp' }], '[::1]:9988->9988/tcp'],
    [[{ PrivatePort: 9988, Type: 'udp' }, { PrivatePort: 9988, Type: 'udp' }], '9988/udp, 9988/udp'],
    [
      [
        { IP: '1.2.3.4', PublicPort: 9998, PrivatePort: 9998, Type: 'udp' },
        { IP: '1.2.3.4', PublicPort: 9999, PrivatePort: 9999, Type: 'udp' },
      ],
      '1.2.3.4:9998-9999->9998-9999/udp',
    ],
    [
      [
        { IP: '1.2.3.4', PublicPort: 8887, PrivatePort: 9998, Type: 'udp' },
        { IP: '1.2.3.4', PublicPort: 8888, PrivatePort: 9999, Type: 'udp' },
      ],
      '1.2.3.4:8887->9998/udp, 1.2.3.4:8888->9999/udp',
    ],
    [
      [
        { PrivatePort: 80, Type: 'tcp' },
        { PrivatePort: 81, Type: 'tcp' },
        { PrivatePort: 82, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
        { IP: '0.0.0.0', PrivatePort: 443, PublicPort: 8443, Type: 'tcp' },
      ],
      '53/udp, 80-82/tcp, 0.0.0.0:8443->443/tcp',
    ],
  ];
  for (const [ports, want] of cases) assert.equal(displayablePorts(ports), want);
});

test('ps row fields', () => {
  const row = containerRow(
    ctr({
      Command: "sh -c 'while true; do echo hi; sleep 1; done'",
      Names: ['/db/alias', '/db'],
      Image: 'docker.io/library/nginx:1.25',
      Labels: { b: '2', a: '1' },
      Mounts: [{ Name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', Driver: 'local' }, { Source: '/host/path' }],
      SizeRw: 12, SizeRootFs: 4_260_000,
      NetworkSettings: { Networks: { bridge: {} } },
    }),
    true,
    NOW,
  );
  assert.equal(row.ID, '4c01db0b339c');
  assert.equal(row.Command, `"sh -c 'while true; …"`);
  assert.equal(row.Names, 'db');
  assert.equal(row.Image, 'nginx:1.25');
  assert.equal(row.Labels, 'a=1,b=2');
  assert.equal(row.Mounts, 'aaaaaaaaaaaaaa…,/host/path');
  assert.equal(row.LocalVolumes, '1');
  assert.equal(row.Size, '12B (virtual 4.26MB)');
  assert.equal(row.RunningFor, '17 seconds ago');
  assert.equal(row.Networks, 'bridge');
  const full = containerRow(ctr({ Names: ['/db/alias', '/db'] }), false, NOW);
  assert.equal(full.Names, 'db/alias,db');
  assert.equal(full.ID?.length, 64);
  assert.equal(containerRow(ctr({ Image: 'sha256:' + 'f'.repeat(64) }), true, NOW).Image, 'ffffffffffff');
  assert.equal(containerRow(ctr({ Image: '' }), true, NOW).Image, '<no image>');
});

test('ps default table, aligned as docker aligns it', () => {
  const rows = [
    ctr({}),
    ctr({
      Id: 'b'.repeat(64),
      Names: ['/loooooooooooooong_name'],
      Image: 'busybox',
      Command: 'sleep 1000',
      Created: sec(2 * 60 * 60 * 1000),
      Status: 'Exited (0) 2 minutes ago',
      State: 'exited',
      Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
    }),
  ];
  const out = renderList({ format: containerFormat('', false, false), header: CONTAINER_HEADERS, rows: rows.map((r) => containerRow(r, true, NOW)) });
  assert.equal(
    out,
    'CONTAINER ID   IMAGE     COMMAND        CREATED          STATUS                     PORTS                  NAMES\n' +
      '4c01db0b339c   ubuntu    "bash"         17 seconds ago   Up 16 seconds                                     webapp\n' +
      'bbbbbbbbbbbb   busybox   "sleep 1000"   2 hours ago      Exited (0) 2 minutes ago   0.0.0.0:8080->80/tcp   loooooooooooooong_name\n',
  );
  // Empty list: header only.
  assert.equal(
    renderList({ format: containerFormat('', false, false), header: CONTAINER_HEADERS, rows: [] }),
    'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
  );
  // -q, and --format with table, \t, a label and json.
  assert.equal(renderList({ format: containerFormat('', true, false), header: CONTAINER_HEADERS, rows: [containerRow(rows[0], true, NOW)] }), '4c01db0b339c\n');
  const labelled = [{ ...rows[0], Labels: { 'com.example.app-name': 'web' } }];
  assert.equal(
    renderList({
      format: 'table {{.Names}}\\t{{.Label "com.example.app-name"}}\\t{{.State}}',
      header: CONTAINER_HEADERS,
      rows: labelled.map((r) => containerRow(r, true, NOW)),
      labels: labelled.map((r) => r.Labels),
    }),
    'NAMES     app name   STATE\nwebapp    web        running\n',
  );
  assert.equal(
    renderList({ format: '{{.ID}}: {{.Label "missing"}}|', header: CONTAINER_HEADERS, rows: [containerRow(rows[0], true, NOW)], labels: [{}] }),
    '4c01db0b339c: |\n',
  );
  const json = renderList({ format: 'json', header: CONTAINER_HEADERS, rows: [containerRow(rows[0], true, NOW)] });
  const parsed = JSON.parse(json) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), [
    'Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status',
  ]);
  assert.equal(parsed.Command, '"bash"');
  assert.match(json, /^\{"Command":"\\"bash\\"",/);
});

test('template errors are reported as docker reports them', () => {
  assert.throws(
    () => renderList({ format: '{{.ID', header: CONTAINER_HEADERS, rows: [] }),
    (e: unknown) => e instanceof Error && e.message.startsWith('template parsing error: template: :1: '),
  );
});

test('a field the docker formatter lacks fails as its Go struct does, not as "<no value>"', () => {
  const row = containerRow(ctr({}), true, NOW);
  const bogus = 'template parsing error: template: :1:2: executing "" at <.Bogus>: can\'t evaluate field Bogus in type *formatter.imageContext';
  assert.throws(() => renderList({ format: '{{.Bogus}}', header: IMAGE_HEADERS, rows: [row], goType: '*formatter.imageContext' }), { message: bogus });
  // Per-row types (system df), and no error without rows, as docker.
  assert.throws(() => renderList({ format: '{{.Nope}}', header: {}, rows: [{ A: '' }, { B: '' }], goType: ['*x.a', '*x.b'] }), /in type \*x\.a$/);
  assert.equal(renderList({ format: '{{.Bogus}}', header: IMAGE_HEADERS, rows: [], goType: '*formatter.imageContext' }), '');
  // Known fields, .Label and json still work on a typed row.
  assert.equal(renderList({ format: '{{.Names}} {{.Label "x"}}', header: CONTAINER_HEADERS, rows: [row], labels: [{ x: 'y' }], goType: CONTAINER_GO_TYPE }), 'webapp y\n');
  assert.ok(renderList({ format: '{{json .}}', header: CONTAINER_HEADERS, rows: [row], goType: CONTAINER_GO_TYPE }).startsWith('{"Command":'));
});

test('ps checks its --format once before listing, in its own words', () => {
  const fields = Object.keys(CONTAINER_HEADERS);
  assert.throws(() => preflightFormat('{{.ID', fields, CONTAINER_GO_TYPE), { message: 'failed to parse template: template: :1: unclosed action' });
  assert.throws(() => preflightFormat('table {{.Bogus}}', fields, CONTAINER_GO_TYPE), {
    message: 'failed to execute template: template: :1:8: executing "" at <.Bogus>: can\'t evaluate field Bogus in type *formatter.ContainerContext',
  });
  for (const ok of ['table {{.ID}}\t{{.Size}}', 'json', '{{.Label "com.x"}} {{.Names}}', '{{json .}}']) preflightFormat(ok, fields, CONTAINER_GO_TYPE);
});

function img(over: Partial<ImageSummary>): ImageSummary {
  return {
    Id: 'sha256:' + '1234567890ab'.repeat(5) + 'cdef',
    ParentId: '',
    RepoTags: ['busybox:latest'],
    RepoDigests: [],
    Created: sec(3 * 7 * 24 * 3600 * 1000),
    Size: 4_264_000,
    SharedSize: -1,
    Labels: null,
    Containers: -1,
    ...over,
  };
}

test('images table', () => {
  const images = [
    img({ RepoTags: ['busybox:latest', 'busybox:1.36', 'localhost:5000/busybox:x'], RepoDigests: ['busybox@sha256:' + 'e'.repeat(64)] }),
    img({ Id: 'sha256:' + '9'.repeat(64), RepoTags: [], RepoDigests: [], Size: 123_456_789, Created: sec(90 * 60 * 1000) }),
  ];
  const out = renderList({
    format: imageFormat('table', false, false),
    header: IMAGE_HEADERS,
    rows: imageRows(images, { trunc: true, digest: false, needDigest: false }, NOW),
  });
  assert.equal(
    out,
    'REPOSITORY               TAG       IMAGE ID       CREATED       SIZE\n' +
      'busybox                  latest    1234567890ab   3 weeks ago   4.26MB\n' +
      'busybox                  1.36      1234567890ab   3 weeks ago   4.26MB\n' +
      'localhost:5000/busybox   x         1234567890ab   3 weeks ago   4.26MB\n' +
      '<none>                   <none>    999999999999   2 hours ago   123MB\n',
  );
  const withDigests = renderList({
    format: imageFormat('table', false, true),
    header: IMAGE_HEADERS,
    rows: imageRows([images[0]], { trunc: true, digest: true, needDigest: true }, NOW),
  });
  assert.match(withDigests.split('\n')[0], /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$/);
  assert.match(withDigests.split('\n')[1], new RegExp(`^busybox +latest +sha256:${'e'.repeat(64)} +1234567890ab`));
  assert.match(withDigests.split('\n')[3], /^localhost:5000\/busybox +x +<none> +/);
  assert.equal(imageFormat('table {{.ID}}', false, true), 'table {{.ID}}\t{{.Digest}}');
  assert.equal(imageFormat('table', true, false), '{{.ID}}');
});

test('history rows', () => {
  const h = historyRow({ Id: '<missing>', Created: sec(60_000), CreatedBy: '/bin/sh -c #(nop) \tCMD ["sh"]  and a long tail of text', Tags: null, Size: 0, Comment: '' }, true, true, NOW);
  assert.equal(h.ID, '<missing>');
  assert.equal(h.CreatedSince, 'About a minute ago');
  assert.equal(h.CreatedBy, '/bin/sh -c #(nop)  CMD ["sh"]  and a long ta…');
  assert.equal(h.Size, '0B');
  const raw = historyRow({ Id: 'sha256:abc', Created: 0, CreatedBy: '', Tags: null, Size: 1234, Comment: 'c' }, false, false, NOW);
  assert.equal(raw.Size, '1234');
  assert.equal(historyRow({ Id: 'x', Created: 0, CreatedBy: '', Tags: null, Size: 0, Comment: '' }, true, true, NOW).CreatedSince, 'N/A');
});

test('ellipsis and header labels', () => {
  assert.equal(ellipsis('abcdef', 4), 'abc…');
  assert.equal(ellipsis('abc', 4), 'abc');
  assert.equal(ellipsis('abc', 1), 'a');
  assert.equal(ellipsis('日本語テキスト', 6), '日本…');
  assert.equal(headerLabel('com.docker.compose.project-name'), 'project name');
});

test('indentJson keeps the daemon bytes and indents as json.Indent', () => {
  assert.equal(indentJson('[{"a":1,"b":[],"c":{},"d":[1,2],"e":"x\\"y,{"}]'), '[\n    {\n        "a": 1,\n        "b": [],\n        "c": {},\n        "d": [\n            1,\n            2\n        ],\n        "e": "x\\"y,{"\n    }\n]');
  assert.equal(indentJson('{"n":12345678901234567890}'), '{\n    "n": 12345678901234567890\n}');
});

test('--format json of a row HTML-escapes as the formatter context json.Marshal does; {{json .Field}} does not', () => {
  const images = [img({ RepoTags: [], RepoDigests: [], Labels: { a: '<b>&c' } })];
  const rows = imageRows(images, { trunc: true, digest: false, needDigest: true }, NOW);
  const out = renderList({ format: 'json', header: IMAGE_HEADERS, rows, goType: '*formatter.imageContext' });
  assert.match(out, /"Repository":"\\u003cnone\\u003e"/);
  assert.match(out, /"Digest":"\\u003cnone\\u003e"/);
  assert.doesNotMatch(out, /<none>/);
  const field = renderList({ format: '{{json .Repository}}', header: IMAGE_HEADERS, rows, goType: '*formatter.imageContext' });
  assert.equal(field, '"<none>"\n');
});

test('--format json of a row sorts its keys as json.Marshal sorts a map', () => {
  const out = renderList({ format: 'json', header: {}, rows: [{ Name: 'v', Driver: 'local', Availability: 'N/A' }], goType: '*formatter.volumeContext' });
  assert.equal(out, '{"Availability":"N/A","Driver":"local","Name":"v"}\n');
  const labelled = renderList({ format: '{{json .}} {{.Label "k"}}', header: {}, rows: [{ Name: 'v' }], labels: [{ k: 'x' }], goType: '*formatter.volumeContext' });
  assert.equal(labelled, '{"Name":"v"} x\n');
});
