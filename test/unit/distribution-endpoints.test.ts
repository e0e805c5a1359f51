import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { RegistryConfig, splitHost, validateMirror } from '../../src/distribution/endpoints.js';
import { request, transportError } from '../../src/distribution/http.js';
import { errorFromResponse, RegistryResponseError, translatePullError, TransportError, worthFallback } from '../../src/distribution/registry-errors.js';

const urls = async (c: RegistryConfig, domain: string, mirrors = true): Promise<string[]> =>
  (await c.endpoints(domain, mirrors)).map((e) => `${e.url.toString()}${e.mirror ? ' mirror' : ''}${e.insecureTls ? ' insecure' : ''}`);

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected an error');
}

test('reference → endpoints: https, plus http for loopback and insecure-registries; Docker Hub behind its mirrors', async () => {
  const plain = new RegistryConfig();
  assert.deepEqual(await urls(plain, 'docker.io'), ['https://registry-1.docker.io/']);
  assert.deepEqual(await urls(plain, '127.0.0.1:5000'), ['https://127.0.0.1:5000/ insecure', 'http://127.0.0.1:5000/ insecure']);
  assert.deepEqual(await urls(plain, '127.8.9.10:5000'), ['https://127.8.9.10:5000/ insecure', 'http://127.8.9.10:5000/ insecure']);
  assert.deepEqual(await urls(plain, '[::1]:5000'), ['https://[::1]:5000/ insecure', 'http://[::1]:5000/ insecure']);
  assert.deepEqual(await urls(plain, 'localhost:5000'), ['https://localhost:5000/ insecure', 'http://localhost:5000/ insecure']);
  assert.deepEqual(await urls(plain, '192.168.245.136:5000'), ['https://192.168.245.136:5000/']);

  const c = new RegistryConfig({
    insecureRegistries: ['192.168.245.136:5000', '10.20.0.0/16', 'http://myreg.example:5000'],
    registryMirrors: ['https://mirror.example', 'http://127.0.0.1:6000/', 'https://mirror.example/'],
  });
  assert.deepEqual(await urls(c, '192.168.245.136:5000'), ['https://192.168.245.136:5000/ insecure', 'http://192.168.245.136:5000/ insecure']);
  assert.deepEqual(await urls(c, '192.168.245.136:5001'), ['https://192.168.245.136:5001/']);
  assert.deepEqual(await urls(c, '10.20.3.4:443'), ['https://10.20.3.4/ insecure', 'http://10.20.3.4:443/ insecure']);
  assert.deepEqual(await urls(c, 'myreg.example:5000'), ['https://myreg.example:5000/ insecure', 'http://myreg.example:5000/ insecure']);
  assert.deepEqual(await urls(c, 'docker.io'), ['https://mirror.example/ mirror', 'http://127.0.0.1:6000/ mirror insecure', 'https://registry-1.docker.io/']);
  // Credentials never go to a mirror: login and push skip them.
  assert.deepEqual(await urls(c, 'docker.io', false), ['https://registry-1.docker.io/']);
  assert.deepEqual(c.mirrors, ['https://mirror.example/', 'http://127.0.0.1:6000/']);
  assert.deepEqual(c.describe().InsecureRegistryCIDRs.sort(), ['10.20.0.0/16', '127.0.0.0/8', '::1/128']);
});

test('daemon.json registry settings are validated with Docker messages', () => {
  assert.equal(err(() => validateMirror('mirror.example')), `invalid mirror: no scheme specified for "mirror.example": must use either 'https://' or 'http://'`);
  assert.equal(err(() => validateMirror('ftp://mirror.example')), `invalid mirror: unsupported scheme "ftp" in "ftp://mirror.example": must use either 'https://' or 'http://'`);
  assert.equal(err(() => validateMirror('https://m.example/?x=1')), 'invalid mirror: query or fragment at end of the URI "https://m.example/?x=1"');
  assert.match(err(() => validateMirror('https://u:p@m.example')), /^invalid mirror: username\/password not allowed in URI "https:\/\/u:xxxxx@m\.example\/"$/);
  assert.equal(validateMirror('https://m.example//'), 'https://m.example/');
  assert.equal(err(() => new RegistryConfig({ insecureRegistries: ['-bad'] })), 'invalid index name (-bad). Cannot begin or end with a hyphen');
  assert.equal(err(() => new RegistryConfig({ insecureRegistries: ['ftp://x'] })), "insecure registry ftp://x should not contain '://'");
  assert.equal(err(() => new RegistryConfig({ insecureRegistries: 'x' })), 'insecure-registries must be a list of strings');
  assert.equal(err(() => new RegistryConfig({ insecureRegistries: ['bad host!'] })), 'insecure registry bad host! is not valid: invalid host "bad host!"');
  assert.equal(splitHost('[::1]:5000'), '::1');
  assert.equal(splitHost('::1'), '::1');
  assert.equal(splitHost('host:5000'), 'host');
  assert.equal(splitHost('host'), 'host');
});

test('registry error answers become distribution client errors', () => {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const one = errorFromResponse(404, json, Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}'));
  assert.equal(one.message, 'manifest unknown: manifest unknown');
  assert.equal(one.kind, 'NotFound');
  const two = errorFromResponse(400, json, Buffer.from('{"errors":[{"code":"DIGEST_INVALID"},{"code":"WHO_KNOWS","message":"m"}]}'));
  assert.equal(two.message, 'errors:\ndigest invalid: provided digest did not match uploaded content\nunknown: m\n');
  assert.equal(errorFromResponse(401, {}, Buffer.from('nope')).message, 'unauthorized: nope');
  assert.equal(errorFromResponse(401, {}, Buffer.from('nope')).kind, 'Unauthorized');
  assert.equal(errorFromResponse(403, { 'content-type': 'text/plain' }, Buffer.from('go away')).message, 'denied: go away');
  assert.equal(errorFromResponse(401, json, Buffer.from('{"details":"incorrect username or password"}')).message, 'unauthorized: incorrect username or password');
  const garbage = errorFromResponse(404, json, Buffer.from('page not found'));
  assert.match(garbage.message, /^error parsing HTTP 404 response body: .*: "page not found"$/);
  assert.ok(garbage.unexpected);
  assert.equal(errorFromResponse(401, json, Buffer.from('{}')).message, 'unauthorized: authentication required');
  assert.equal(errorFromResponse(500, json, Buffer.from('{}')).message, 'received unexpected HTTP status: 500 Internal Server Error');
  const bearer = errorFromResponse(401, { 'www-authenticate': 'Bearer realm="x",error="insufficient_scope"', ...json }, Buffer.from('{"errors":[{"code":"DENIED"}]}'));
  assert.equal(bearer.message, 'errors:\ndenied: requested access to the resource is denied\ndenied: requested access to the resource is denied\n');
});

test('pull errors as `docker pull` prints them', () => {
  const tr = (code: string, message: string): string => (translatePullError(errorFromResponse(404, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code, message }] }))), 'x', '127.0.0.1:5000/x:nope') as Error).message;
  assert.equal(tr('MANIFEST_UNKNOWN', 'manifest unknown'), 'manifest for 127.0.0.1:5000/x:nope not found: manifest unknown: manifest unknown');
  assert.equal(tr('NAME_UNKNOWN', 'repository name not known to registry'), 'repository x not found: name unknown: repository name not known to registry');
  assert.equal(tr('DENIED', 'requested access to the resource is denied'), "pull access denied for x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
  assert.equal(tr('UNAUTHORIZED', 'authentication required'), 'unauthorized: authentication required');
  const other = new TransportError('Get "https://h/v2/": dial tcp: lookup h: no such host');
  assert.equal(translatePullError(other, 'x', 'x'), other);
  // Another endpoint is worth trying after transport trouble or a non-registry answer,
  // after a registry's own refusal only when it was a mirror.
  assert.equal(worthFallback(other, false), true);
  assert.equal(worthFallback(new RegistryResponseError('m', 404, [{ code: 'MANIFEST_UNKNOWN', message: 'm' }]), false), false);
  assert.equal(worthFallback(new RegistryResponseError('m', 404, [{ code: 'MANIFEST_UNKNOWN', message: 'm' }]), true), true);
  assert.equal(worthFallback(new RegistryResponseError('m', 404, [], true), false), true);
});

test('transport failures read like Go net/http errors', async (t) => {
  // Nothing listens on a port we just closed.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await assert.rejects(request({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/v2/`) }), {
    message: `Get "http://127.0.0.1:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
  assert.equal(
    transportError('HEAD', new URL('https://registry.invalid/v2/'), Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND', hostname: 'registry.invalid' })).message,
    'Head "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host',
  );

  // TLS spoken to a plain HTTP server.
  const server = http.createServer((_req, res) => res.end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const p = (server.address() as net.AddressInfo).port;
  await assert.rejects(request({ method: 'GET', url: new URL(`https://127.0.0.1:${p}/v2/`), insecureTls: true }), {
    message: `Get "https://127.0.0.1:${p}/v2/": http: server gave HTTP response to HTTPS client`,
  });
  const res = await request({ method: 'GET', url: new URL(`http://127.0.0.1:${p}/v2/`) });
  res.resume();
  assert.equal(res.statusCode, 200);
  assert.equal(transportError('PATCH', new URL('http://h/x'), Object.assign(new Error('boom'), { code: 'EPIPE' })).message, 'Patch "http://h/x": write tcp h:80: write: broken pipe');
});
