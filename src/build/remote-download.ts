import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalid } from '../util/errors.js';

// ADD <url> (moby builder/dockerfile/copy.go downloadSource): the file is fetched into a
// temp dir, named after the URL's last path element (or Content-Disposition), mode 0600,
// its mtime from Last-Modified (the epoch when there is none), never unpacked.

export const UNNAMED = '__unnamed__';
const MAX_REDIRECTS = 10;

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export interface Downloaded {
  filename: string; // '' when neither the URL nor the answer names it
  path: string; // the file in dir
  sha256: string;
}

export async function download(url: string, dir: string, signal: AbortSignal): Promise<Downloaded> {
  const res = await fetchFollowing(url, signal, 0);
  const filename = filenameFor(new URL(url).pathname, res.headers['content-disposition']);
  const path = posix.join(dir, filename || UNNAMED);
  const hash = createHash('sha256');
  await pipeline(
    res,
    async function* (src: AsyncIterable<Buffer>) {
      for await (const chunk of src) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(path, { mode: 0o600, flags: 'wx' }),
    { signal },
  );
  const lastModified = Date.parse(String(res.headers['last-modified'] ?? ''));
  const mtime = Number.isNaN(lastModified) ? new Date(0) : new Date(lastModified);
  await utimes(path, mtime, mtime);
  return { filename, path, sha256: `sha256:${hash.digest('hex')}` };
}

function fetchFollowing(url: string, signal: AbortSignal, hops: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.toLowerCase().startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location) {
        res.resume();
        if (hops >= MAX_REDIRECTS) return reject(invalid(`error downloading '${url}': stopped after ${MAX_REDIRECTS} redirects`));
        return resolve(fetchFollowing(new URL(location, url).toString(), signal, hops + 1));
      }
      if (status >= 400) {
        // moby's GetWithStatusError: the status and what the server said.
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if ((size += c.length) <= 64 << 10) chunks.push(c);
        });
        res.on('end', () => reject(invalid(`failed to GET ${url} with status ${status} ${res.statusMessage ?? ''}: ${Buffer.concat(chunks).toString().trim()}`)));
        res.on('error', () => reject(invalid(`failed to GET ${url} with status ${status} ${res.statusMessage ?? ''}: error reading body`)));
        return;
      }
      resolve(res);
    });
    req.on('error', (err) => reject(invalid(`Get ${JSON.stringify(url)}: ${goNetError(url, err as NodeJS.ErrnoException)}`)));
  });
}

// Node's network errors in the words of Go's net/http, as dockerd reports them.
function goNetError(url: string, err: NodeJS.ErrnoException): string {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  if (err.code === 'ECONNREFUSED') return `dial tcp ${u.hostname}:${port}: connect: connection refused`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `dial tcp: lookup ${u.hostname}: no such host`;
  if (err.code === 'ECONNRESET') return 'EOF';
  return err.message;
}

// The URL path's base name unless it ends with "/"; else Content-Disposition's filename.
export function filenameFor(path: string, disposition: string | undefined): string {
  if (path !== '' && !path.endsWith('/')) {
    let decoded = path;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // a malformed escape: the raw name will do
    }
    const base = posix.basename(decoded);
    if (base !== '' && base !== '.' && base !== '/') return base;
  }
  const m = disposition ? /filename\*?=(?:UTF-8'')?"?([^";]*)"?/i.exec(disposition) : null;
  if (m && m[1] && !m[1].endsWith('/')) {
    const base = posix.basename(m[1]);
    if (base !== '' && base !== '.') return base;
  }
  return '';
}
