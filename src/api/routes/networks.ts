import type { Route } from '../router.js';
import { Reply, filtersParam } from '../router.js';
import { invalid } from '../../util/errors.js';
import type { NetworkService, CreateNetworkRequest } from '../../network/network-service.js';
import type { ContainerNetworking } from '../../network/container-networking.js';
import type { EndpointState } from '../../network/types.js';
import type { ContainerRecord } from '../../container/types.js';

export interface NetworkRouteDeps {
  networks: NetworkService;
  containerNetworking: ContainerNetworking;
  // Runs a change of one container's networks under its lock and saves it.
  updateNetworking(ref: string, fn: (rec: ContainerRecord) => Promise<void>): Promise<void>;
}

// moby's api/server/router/network: decode, call, encode.
export function networkRoutes(d: NetworkRouteDeps): Route[] {
  const nets = d.networks;
  return [
    { method: 'GET', path: '/networks', handler: async (c) => nets.list(filtersParam(c.query)) },
    {
      method: 'POST',
      path: '/networks/create',
      handler: async (c) => new Reply(201, await nets.create(await c.json<CreateNetworkRequest>())),
    },
    {
      method: 'POST',
      path: '/networks/prune',
      handler: async (c) => nets.prune(filtersParam(c.query)),
    },
    {
      method: 'GET',
      path: '/networks/{id}',
      handler: async (c) => {
        const v = c.query.get('verbose');
        if (v !== null && !['', '0', '1', 'true', 'false', 'True', 'False'].includes(v)) throw invalid(`invalid value for verbose: ${v}`);
        return nets.inspect(c.params.id!);
      },
    },
    {
      method: 'DELETE',
      path: '/networks/{id}',
      handler: async (c) => {
        await nets.remove(c.params.id!);
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/networks/{id}/connect',
      handler: async (c) => {
        const body = await c.json<{ Container?: string; EndpointConfig?: Partial<EndpointState> | null }>();
        const net = nets.store.resolve(c.params.id!);
        await d.updateNetworking(body.Container ?? '', (rec) => d.containerNetworking.connect(rec, net.Id, body.EndpointConfig ?? null));
        return new Reply(200);
      },
    },
    {
      method: 'POST',
      path: '/networks/{id}/disconnect',
      handler: async (c) => {
        const body = await c.json<{ Container?: string; Force?: boolean }>();
        await d.updateNetworking(body.Container ?? '', (rec) => d.containerNetworking.disconnect(rec, c.params.id!, body.Force === true));
        return new Reply(200);
      },
    },
  ];
}
