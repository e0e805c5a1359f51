// Parsing errors, the parse-once/render-many API, options, and the places where
// berth deliberately follows docker's typed structs (or a newer Go than the one
// the tables in go-template.test.ts were recorded with).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, renderTemplate, Template, TemplateError } from '../../src/util/go-template.js';

interface Case {
  tpl: string;
  want?: string;
  err?: string;
}

function expectError(fn: () => unknown, message: string, phase: 'parse' | 'exec'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.ok(e instanceof Error);
    assert.equal(e.message, message);
    assert.equal(e.phase, phase);
    return true;
  });
}

// Recorded from Go's text/template with docker's FuncMap.
const parseErrors: Case[] = [
  { tpl: "{{foo}}", err: "template: :1: function \"foo\" not defined" },
  { tpl: "{{.Name", err: "template: :1: unclosed action" },
  { tpl: "{{.Name}", err: "template: :1: bad character U+007D '}'" },
  { tpl: "{{end}}", err: "template: :1: unexpected {{end}}" },
  { tpl: "{{else}}", err: "template: :1: unexpected {{else}}" },
  { tpl: "{{if}}{{end}}", err: "template: :1: missing value for if" },
  { tpl: "{{if .X}}", err: "template: :1: unexpected EOF" },
  { tpl: "{{range}}{{end}}", err: "template: :1: missing value for range" },
  { tpl: "{{with .X}}{{else}}{{else}}{{end}}", err: "template: :1: expected end; found {{else}}" },
  { tpl: "{{.Name | 1}}", err: "template: :1: non executable command in pipeline stage 2" },
  { tpl: "{{(.Name}}", err: "template: :1: unclosed left paren" },
  { tpl: "{{.Name)}}", err: "template: :1: unexpected \")\" in command" },
  { tpl: "{{$x}}", err: "template: :1: undefined variable \"$x\"" },
  { tpl: "{{$x := }}", err: "template: :1: missing value for command" },
  { tpl: "{{$x, $y := .}}", err: "template: :1: too many declarations in command" },
  { tpl: "{{range $a, $b, $c := .}}{{end}}", err: "template: :1: too many declarations in range" },
  { tpl: "{{range $a, 1 := .}}{{end}}", err: "template: :1: range can only initialize variables" },
  { tpl: "{{\"unterminated}}", err: "template: :1: unterminated quoted string" },
  { tpl: "{{`raw}}", err: "template: :1: unterminated raw quoted string" },
  { tpl: "{{'x}}", err: "template: :1: unterminated character constant" },
  { tpl: "{{/* unclosed", err: "template: :1: unclosed comment" },
  { tpl: "{{/* c */ x}}", err: "template: :1: comment ends before closing delimiter" },
  { tpl: "{{break}}", err: "template: :1: {{break}} outside {{range}}" },
  { tpl: "{{continue}}", err: "template: :1: {{continue}} outside {{range}}" },
  { tpl: "{{range .}}{{break 1}}{{end}}", err: "template: :1: unexpected \"1\" in {{break}}" },
  { tpl: "{{define \"x\"}}{{end}", err: "template: :1: bad character U+007D '}'" },
  { tpl: "{{define x}}{{end}}", err: "template: :1: unexpected \"x\" in define clause" },
  { tpl: "{{template x}}", err: "template: :1: unexpected \"x\" in template clause" },
  { tpl: "{{.A-b}}", err: "template: :1: bad character U+002D '-'" },
  { tpl: "{{€}}", err: "template: :1: unrecognized character in action: U+20AC '€'" },
  { tpl: "{{\"a\".b}}", err: "template: :1: unexpected . after term \"\\\"a\\\"\"" },
  { tpl: "{{1.2.3}}", err: "template: :1: unexpected \".3\" in operand" },
  { tpl: "{{nil.b}}", err: "template: :1: unexpected . after term \"nil\"" },
  { tpl: "{{:}}", err: "template: :1: expected :=" },
  { tpl: "{{| .}}", err: "template: :1: unexpected \"|\" in command" },
  { tpl: "{{.X |}}", want: "<no value>" },
  { tpl: "{{}}", err: "template: :1: missing value for command" },
  { tpl: "line1\n{{.A\nline3", err: "template: :3: function \"line3\" not defined" },
  { tpl: "line1\n{{if .A}}\n\n{{end", err: "template: :4: unclosed action" },
  { tpl: "{{if .A}}\n{{else}}\n{{else if .B}}{{end}}", err: "template: :3: expected end; found {{else}}" },
  { tpl: "{{range .}}{{else if .B}}{{end}}{{end}}", err: "template: :1: unexpected <if> in input" },
  { tpl: "{{.X 1 | }}", want: "<no value>" },
  { tpl: "{{printf \"%d\" 1 | 2}}", err: "template: :1: non executable command in pipeline stage 2" },
  { tpl: "{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}", err: "template: :1: template: multiple definition of template \"a\"" },
  { tpl: "{{define \"d\"}}x", err: "template: :1: unexpected EOF" },
  { tpl: "{{08}}", err: "template: :1: integer overflow: \"08\"" },
  { tpl: "{{0x}}", err: "template: :1: illegal number syntax: \"0x\"" },
  { tpl: "{{1__0}}", err: "template: :1: illegal number syntax: \"1__0\"" },
  { tpl: "{{18446744073709551616}}", err: "template: :1: integer overflow: \"18446744073709551616\"" },
  { tpl: "{{'ab'}}", err: "template: :1: malformed character constant: 'ab'" },
  { tpl: "{{3abc}}", err: "template: :1: bad number syntax: \"3a\"" },
  { tpl: "{{\"\\q\"}}", err: "template: :1: invalid syntax" },
];

describe('parse errors, as Go words them', () => {
  for (const c of parseErrors) {
    it(JSON.stringify(c.tpl), () => {
      if (c.err !== undefined) expectError(() => parseTemplate(c.tpl), c.err, 'parse');
      else assert.equal(renderTemplate(c.tpl, null), c.want);
    });
  }
  it('limits nested parentheses instead of overflowing the stack', () => {
    const deep = '{{' + '('.repeat(5000) + '1' + ')'.repeat(5000) + '}}';
    expectError(() => parseTemplate(deep), 'template: :1: max expression depth exceeded', 'parse');
    const ok = '{{' + '('.repeat(500) + '1' + ')'.repeat(500) + '}}';
    assert.equal(renderTemplate(ok, null), '1');
  });
  it('rejects complex constants (Go accepts them; no docker format needs them)', () => {
    expectError(() => parseTemplate('{{1i}}'), 'template: :1: complex constants are not supported: "1i"', 'parse');
  });
});

describe('Template API', () => {
  it('parses once and renders many rows', () => {
    const t = parseTemplate('{{.ID}}\t{{.Names}}');
    assert.ok(t instanceof Template);
    const rows = [
      { ID: 'abc', Names: 'web' },
      { ID: 'def', Names: 'db' },
      { ID: 'ghi' },
    ].map((r) => t.execute(r));
    assert.deepEqual(rows, ['abc\tweb', 'def\tdb', 'ghi\t<no value>']);
  });
  it('reports execution errors with phase exec and leaves the template usable', () => {
    const t = parseTemplate('{{.a.b}}');
    expectError(() => t.execute({ a: null }), 'template: :1:4: executing "" at <.a.b>: nil pointer evaluating interface {}.b', 'exec');
    assert.equal(t.execute({ a: { b: 'ok' } }), 'ok');
  });
  it('lists the defined template names', () => {
    assert.deepEqual(parseTemplate('{{define "row"}}x{{end}}{{template "row"}}').names.sort(), ['', 'row']);
  });
  it('treats null and undefined data as no value', () => {
    assert.equal(renderTemplate('{{.}}|{{.X}}', null), '<no value>|<no value>');
    assert.equal(renderTemplate('{{.}}', undefined), '<no value>');
  });
  it('supports missingkey=error like docker inspect’s raw fallback', () => {
    const t = parseTemplate('{{.Nope}}', { missingKey: 'error' });
    expectError(() => t.execute({ a: null }), 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"', 'exec');
    expectError(
      () => parseTemplate('{{.X}}', { missingKey: 'error' }).execute(null),
      'template: :1:2: executing "" at <.X>: nil data; no entry for key "X"',
      'exec',
    );
    expectError(
      () => parseTemplate('{{.x.b}}', { missingKey: 'zero' }).execute({}),
      'template: :1:4: executing "" at <.x.b>: nil pointer evaluating interface {}.b',
      'exec',
    );
    assert.equal(parseTemplate('{{.x}}', { missingKey: 'zero' }).execute({}), '<no value>');
  });
  it('renders a table header with docker’s HeaderFunctions', () => {
    const t = parseTemplate('{{.ID}}\t{{upper .Names}}\t{{truncate .Image 5}}\t{{json .Ports}}\t{{pad .Status 1 1}}|');
    const titles = { ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Ports: 'PORTS', Status: 'STATUS' };
    assert.equal(t.executeHeader(titles), 'CONTAINER ID\tNAMES\tIMAGE\tPORTS\t STATUS |');
    assert.equal(
      t.execute({ ID: 'abc', Names: 'web', Image: 'busybox:latest', Ports: [], Status: 'Up' }),
      'abc\tWEB\tbusyb\t[]\t Up |',
    );
  });
});

// Deliberate departures from Go-over-raw-JSON, each matching what docker prints
// for its typed structs, and features of the Go that builds docker 29 (1.25).
const concessions: { name: string; data: unknown; cases: Case[] }[] = [
  {
    name: 'integral JSON numbers are ints',
    data: { State: { Pid: 4242, ExitCode: 0 }, HostConfig: { CpuShares: 512, Memory: 12345678901234 }, Ratio: 0.5, Huge: 1e20 },
    cases: [
      { tpl: '{{if eq .State.Pid 4242}}yes{{end}}', want: 'yes' },
      { tpl: '{{if gt .HostConfig.CpuShares 100}}big{{end}} {{lt .Ratio 1}} {{eq .Ratio 0.5}}', want: 'big true true' },
      { tpl: '{{printf "%d|%5d|%x" .State.Pid .State.ExitCode .HostConfig.CpuShares}}', want: '4242|    0|200' },
      { tpl: '{{.HostConfig.Memory}} {{.Huge}} {{.Ratio}}', want: '12345678901234 1e+20 0.5' },
      { tpl: '{{truncate "abcdef" .State.Pid}} {{pad "x" .State.ExitCode 1}}|', want: 'abcdef x |' },
      { tpl: '{{printf "%T %T" .State.Pid .Ratio}}', want: 'int float64' },
    ],
  },
  {
    name: 'index of a missing key in a map of strings is "" (map[string]string)',
    data: { Config: { Labels: { a: '1' }, Empty: {}, Mixed: { a: 1 } } },
    cases: [
      { tpl: '[{{index .Config.Labels "nope"}}]', want: '[]' },
      { tpl: '[{{index .Config.Empty "nope"}}]', want: '[]' },
      { tpl: '[{{index .Config.Mixed "nope"}}]', want: '[<no value>]' },
      { tpl: '[{{.Config.Labels.nope}}]', want: '[<no value>]' },
    ],
  },
  {
    name: 'json keeps key order and escapes like Go 1.22+',
    data: { Z: 1, A: { y: '\b\f\u2028<&>', x: null } },
    cases: [{ tpl: '{{json .}}', want: '{"Z":1,"A":{"y":"\\b\\f\\u2028<&>","x":null}}' }],
  },
  {
    name: 'range over an integer (Go 1.22)',
    data: { N: 3 },
    cases: [
      { tpl: '{{range .N}}{{.}}{{end}}', want: '012' },
      { tpl: '{{range $i := 3}}{{$i}}{{end}}', want: '012' },
      { tpl: '{{range 0}}x{{else}}none{{end}}', want: 'none' },
      { tpl: '{{range $i, $j := 3}}{{end}}', err: 'template: :1:18: executing "" at <3>: can\'t use 3 to iterate over more than one variable' },
      { tpl: '{{range 1.5}}{{end}}', err: 'template: :1:8: executing "" at <1.5>: range can\'t iterate over 1.5' },
    ],
  },
  {
    name: '{{else with}} (Go 1.23) and range assignment (Go 1.22)',
    data: { E: '', Name: '/web', Args: ['a', 'b'] },
    cases: [
      { tpl: '{{with .E}}e{{else with .Name}}{{.}}{{else}}none{{end}}', want: '/web' },
      { tpl: '{{with .E}}e{{else with .Nope}}x{{else}}none{{end}}', want: 'none' },
      { tpl: '{{$i := 0}}{{$e := ""}}{{range $i, $e = .Args}}{{end}}{{$i}}{{$e}}', want: '1b' },
      { tpl: '{{$e := ""}}{{range $e = .Args}}{{end}}{{$e}}', want: 'b' },
    ],
  },
];

describe('berth concessions and newer Go', () => {
  for (const group of concessions) {
    describe(group.name, () => {
      for (const c of group.cases) {
        it(JSON.stringify(c.tpl), () => {
          if (c.err !== undefined) expectError(() => renderTemplate(c.tpl, group.data), c.err, 'exec');
          else assert.equal(renderTemplate(c.tpl, group.data), c.want);
        });
      }
    });
  }
});
