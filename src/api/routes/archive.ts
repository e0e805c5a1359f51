import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Route, ApiContext } from '../router.js';
import { Reply, Handled, boolParam } from '../router.js';
import { streamHeaders } from '../server.js';
import type { ArchiveService } from '../../container/archive.js';
import { encodePathStat } from '../../container/archive-stat.js';

// docker cp (HEAD/GET/PUT /containers/{id}/archive), docker export, docker diff.
export function archiveRoutes(svc: ArchiveService): Route[] {
  return [
    // Before GET: the router lets HEAD fall through to a GET route of the same path.
    { method: 'HEAD', path: '/containers/{id}/archive', handler: (c) => statPath(svc, c) },
    { method: 'GET', path: '/containers/{id}/archive', handler: (c) => getArchive(svc, c) },
    { method: 'PUT', path: '/containers/{id}/archive', handler: (c) => putArchive(svc, c) },
    { method: 'GET', path: '/containers/{id}/export', handler: (c) => exportContainer(svc, c) },
    { method: 'GET', path: '/containers/{id}/changes', handler: (c) => svc.changes(c.params.id!) },
  ];
}

const statHeader = 'X-Docker-Container-Path-Stat';

async function statPath(svc: ArchiveService, c: ApiContext): Promise<unknown> {
  const stat = await svc.stat(c.params.id!, c.query.get('path') ?? '');
  c.res!.writeHead(200, { ...streamHeaders('application/x-tar'), [statHeader]: encodePathStat(stat) });
  c.res!.end();
  return Handled;
}

async function getArchive(svc: ArchiveService, c: ApiContext): Promise<unknown> {
  await svc.archive(c.params.id!, c.query.get('path') ?? '', (stat, tar) =>
    send(c.res!, tar, { ...streamHeaders('application/x-tar'), [statHeader]: encodePathStat(stat) }),
  );
  return Handled;
}

async function putArchive(svc: ArchiveService, c: ApiContext): Promise<unknown> {
  await svc.extract(c.params.id!, c.query.get('path') ?? '', c.req, {
    noOverwriteDirNonDir: boolParam(c.query, 'noOverwriteDirNonDir'),
    copyUIDGID: boolParam(c.query, 'copyUIDGID'),
  });
  return new Reply(200, '');
}

async function exportContainer(svc: ArchiveService, c: ApiContext): Promise<unknown> {
  await svc.export(c.params.id!, (tar) => send(c.res!, tar, streamHeaders('application/x-tar')));
  return Handled;
}

// Once the headers are out, a failure can only cut the stream short (as dockerd does): the
// client sees a truncated tar, and a client that went away is no error of ours.
async function send(res: ServerResponse, tar: Readable, headers: Record<string, string>): Promise<void> {
  res.writeHead(200, headers);
  await pipeline(tar, res).catch(() => {
    tar.destroy();
    res.destroy();
  });
}
