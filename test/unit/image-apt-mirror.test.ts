import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeb822Sources, parseOneLineSources, pickDebianMirror } from '../../src/image/apt-mirror.js';

test('one-line sources.list entries', () => {
  const text = `# comment
deb http://deb.debian.org/debian bookworm main contrib
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm-updates main # trailing
deb http://security.debian.org/debian-security bookworm-security main
`;
  assert.deepEqual(parseOneLineSources(text), [
    { uri: 'http://deb.debian.org/debian', suites: ['bookworm'], components: ['main', 'contrib'] },
    { uri: 'http://mirror.example/debian/', suites: ['bookworm-updates'], components: ['main'] },
    { uri: 'http://security.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
  ]);
});

test('deb822 .sources stanzas (as on this machine)', () => {
  const text = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
`;
  const sources = parseDeb822Sources(text);
  assert.deepEqual(sources, [
    { uri: 'http://deb.debian.org/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'] },
    { uri: 'http://deb.debian.org/debian-security', suites: ['bookworm-security'], components: ['main'] },
  ]);
  assert.equal(pickDebianMirror(sources), 'http://deb.debian.org/debian');
});

test('the main archive is picked, not security or third-party repositories', () => {
  assert.equal(
    pickDebianMirror([
      { uri: 'https://deb.nodesource.com/node_20.x', suites: ['nodistro'], components: ['main'] },
      { uri: 'http://security.debian.org/debian-security', suites: ['bookworm-security'], components: [] },
      { uri: 'http://ftp.example.org/debian/', suites: ['bookworm'], components: ['main'] },
    ]),
    'http://ftp.example.org/debian',
  );
  assert.equal(pickDebianMirror([]), null);
});
