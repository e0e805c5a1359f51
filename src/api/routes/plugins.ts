import type { Route } from '../router.js';
import { notFound, notImplemented } from '../../util/errors.js';

// berth has no plugin system: the list is empty (docker-py's client.plugins.list(), the
// CLI's `plugin ls` and `info` read it) and any one plugin is not found, as on a dockerd
// with no plugins installed.
const missing = async (c: { params: Record<string, string> }): Promise<never> => {
  throw notFound(`plugin "${c.params.name}" not found`);
};

const unsupported = async (): Promise<never> => {
  throw notImplemented('berth does not support plugins');
};

export function pluginRoutes(): Route[] {
  return [
    { method: 'GET', path: '/plugins', handler: async () => [] },
    { method: 'GET', path: '/plugins/privileges', handler: unsupported },
    { method: 'POST', path: '/plugins/pull', handler: unsupported },
    { method: 'POST', path: '/plugins/create', handler: unsupported },
    { method: 'GET', path: '/plugins/{name:.*}/json', handler: missing },
    { method: 'DELETE', path: '/plugins/{name:.*}', handler: missing },
    ...['enable', 'disable', 'upgrade', 'push', 'set'].map((op) => ({ method: 'POST', path: `/plugins/{name:.*}/${op}`, handler: missing })),
  ];
}
