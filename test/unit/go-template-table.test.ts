// docker's `table` formats: the directive helpers and the tab writer
// (cli/command/formatter: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  alignTabs,
  displayWidth,
  isTableFormat,
  listFormatTemplate,
  parseTemplate,
  stripTableDirective,
  tabwriter,
  unescapeFormat,
} from '../../src/util/go-template.js';

// [input, output] recorded from Go's text/tabwriter with docker's parameters.
const goTabwriter: [string, string][] = [
  ["CONTAINER ID\tIMAGE\tCOMMAND\tNAMES\nabc123def456\tbusybox\t\"sh\"\tweb\nx\tdebian:bookworm-slim-long\t\"sleep 1000\"\tdb\n", "CONTAINER ID   IMAGE                       COMMAND        NAMES\nabc123def456   busybox                     \"sh\"           web\nx              debian:bookworm-slim-long   \"sleep 1000\"   db\n"],
  ["a\tb\tc\n", "a         b         c\n"],
  ["a\tb\tc", "a         b         c"],
  ["\n\n", "\n\n"],
  ["", ""],
  ["no tabs\nat all\n", "no tabs\nat all\n"],
  ["a\tb\nno tab line\nccc\tdddddddddddddddd\te\n", "a         b\nno tab line\nccc       dddddddddddddddd   e\n"],
  ["aaaa\tbbb\td\naa\tb\tdd\na\naa\tcccc\teee\n", "aaaa      bbb       d\naa        b         dd\na\naa        cccc      eee\n"],
  ["x\t\ty\n\t\t\nz\tw\n", "x                   y\n                    \nz         w\n"],
  ["\ta\n\tbb\n", "          a\n          bb\n"],
  ["a\tb\t\n", "a         b         \n"],
  ["1\t2\t3\t4\t5\n11111111111111\t2\n", "1                2         3         4         5\n11111111111111   2\n"],
  ["trail\ttext no newline", "trail     text no newline"],
  ["a\tb\fc\td\n", "a         b\nc         d\n"],];

describe('alignTabs matches Go text/tabwriter', () => {
  for (const [input, want] of goTabwriter) {
    it(JSON.stringify(input), () => assert.equal(alignTabs(input), want));
  }
});

describe('tabwriter over cells', () => {
  it('pads every column but the last to the widest cell plus 3, at least 10', () => {
    const out = tabwriter([
      ['CONTAINER ID', 'IMAGE', 'NAMES'],
      ['b220fabf815a', 'busybox', 'web'],
    ]);
    assert.equal(out, 'CONTAINER ID   IMAGE     NAMES\nb220fabf815a   busybox   web\n');
  });
  it('takes padding and minimum width', () => {
    assert.equal(tabwriter([['a', 'b'], ['ccc', 'd']], 1, 0), 'a   b\nccc d\n');
  });
  it('counts wide characters as two columns, as docker’s vendored tabwriter does', () => {
    assert.equal(displayWidth('容器名'), 6);
    assert.equal(displayWidth('e\u0301'), 1);
    assert.equal(tabwriter([['容器名', 'x'], ['abcdefghijk', 'y']]), '容器名' + ' '.repeat(8) + 'x\nabcdefghijk   y\n');
  });
  it('returns nothing for no rows', () => assert.equal(tabwriter([]), ''));
});

describe('format directives', () => {
  const cases: [string, boolean, string, string][] = [
    // format, isTable, stripTableDirective, listFormatTemplate
    ['table {{.ID}}\\t{{.Names}}', true, '{{.ID}}\\t{{.Names}}', '{{.ID}}\t{{.Names}}'],
    ['table', true, '', ''],
    ['tablefoo', true, 'foo', 'foo'],
    ['  {{.ID}}  ', false, '{{.ID}}', '{{.ID}}'],
    ['\t{{.ID}}\n', false, '\t{{.ID}}\n', '\t{{.ID}}\n'],
    ['json', false, 'json', '{{json .}}'],
    ['{{.ID}}\\n{{.Image}}', false, '{{.ID}}\\n{{.Image}}', '{{.ID}}\n{{.Image}}'],
    [' table {{.ID}}', false, 'table {{.ID}}', 'table {{.ID}}'],
  ];
  for (const [format, table, stripped, tpl] of cases) {
    it(JSON.stringify(format), () => {
      assert.equal(isTableFormat(format), table);
      assert.equal(stripTableDirective(format), stripped);
      assert.equal(listFormatTemplate(format), tpl);
    });
  }
  it('unescapes only backslash-t and backslash-n, left to right', () => {
    assert.equal(unescapeFormat('a\\tb\\nc\\\\t\\x'), 'a\tb\nc\\\t\\x');
  });
  it('renders a docker ps style table end to end', () => {
    const t = parseTemplate(listFormatTemplate('table {{.ID}}\\t{{.Image}}\\t{{.Names}}'));
    const rows = [
      { ID: 'b220fabf815a', Image: 'busybox', Names: 'web' },
      { ID: '4ddf4638572d', Image: 'debian:bookworm', Names: 'db' },
    ];
    const header = t.executeHeader({ ID: 'CONTAINER ID', Image: 'IMAGE', Names: 'NAMES' });
    const text = [header, ...rows.map((r) => t.execute(r))].map((l) => l + '\n').join('');
    assert.equal(
      alignTabs(text),
      'CONTAINER ID   IMAGE             NAMES\n' + 'b220fabf815a   busybox           web\n' + '4ddf4638572d   debian:bookworm   db\n',
    );
  });
});
