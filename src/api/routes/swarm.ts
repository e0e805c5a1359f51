import type { Route } from '../router.js';
import { BerthError, notImplemented } from '../../util/errors.js';

// berth is never part of a swarm. dockerd outside a swarm answers the swarm API with a
// 503 and this message; clients (docker-py's client.swarm, the CLI's `node ls`) expect it
// rather than a 404, which they would take for a missing object.
const NOT_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

const notManager = async (): Promise<never> => {
  throw new BerthError('Unavailable', NOT_MANAGER);
};

const reads = ['/swarm', '/swarm/unlockkey', '/nodes', '/nodes/{id}', '/services', '/services/{id}', '/services/{id}/logs', '/tasks', '/tasks/{id}', '/tasks/{id}/logs', '/secrets', '/secrets/{id}', '/configs', '/configs/{id}'];
const writes = ['/swarm/update', '/swarm/unlock', '/services/create', '/services/{id}/update', '/secrets/create', '/secrets/{id}/update', '/configs/create', '/configs/{id}/update', '/nodes/{id}/update'];
const deletes = ['/nodes/{id}', '/services/{id}', '/secrets/{id}', '/configs/{id}'];

export function swarmRoutes(): Route[] {
  return [
    ...reads.map((path) => ({ method: 'GET', path, handler: notManager })),
    ...writes.map((path) => ({ method: 'POST', path, handler: notManager })),
    ...deletes.map((path) => ({ method: 'DELETE', path, handler: notManager })),
    ...['/swarm/init', '/swarm/join'].map((path) => ({
      method: 'POST',
      path,
      handler: async (): Promise<never> => {
        throw notImplemented('berth does not support swarm mode');
      },
    })),
    {
      method: 'POST',
      path: '/swarm/leave',
      handler: async (): Promise<never> => {
        throw new BerthError('Unavailable', 'This node is not part of a swarm');
      },
    },
  ];
}
