"""networks: create with IPAM, internal, labels; connect with aliases and an address;
disconnect; list with filters; prune."""
import os

import docker
from common import IMAGE, Cleanup, check, client, done, eq, has_keys, name, raises, remove_container, remove_network

c = client()
undo = Cleanup()
# A /28 the test daemon's pools do not hand out by themselves (the caller picks it).
SUBNET = os.environ['DPY_SUBNET']
base = SUBNET.split('/')[0].rsplit('.', 1)
GATEWAY = f'{base[0]}.{int(base[1]) + 1}'
FIXED = f'{base[0]}.{int(base[1]) + 5}'
RANGE = f'{base[0]}.{int(base[1]) + 8}/29'
AUX = f'{base[0]}.{int(base[1]) + 8}'  # the first address of the range: never handed out

ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=SUBNET, gateway=GATEWAY, iprange=RANGE,
                                                                   aux_addresses={'dpyaux': AUX})])
nn = name('net')
net = c.networks.create(nn, driver='bridge', ipam=ipam, labels={'dpy.net': 'a'}, internal=True,
                        options={'com.docker.network.bridge.enable_icc': 'true'})
undo.add(remove_network, c, nn)
check(isinstance(net, docker.models.networks.Network), 'networks.create returns a Network')
eq(net.name, nn, 'network name')
a = net.attrs
has_keys(a, ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress',
             'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels'], 'network inspect')
eq((a['Driver'], a['Scope'], a['Internal']), ('bridge', 'local', True), 'driver, scope, internal')
eq(a['Labels'], {'dpy.net': 'a'}, 'labels')
eq(a['IPAM']['Driver'], 'default', 'IPAM driver')
eq(a['IPAM']['Config'], [{'Subnet': SUBNET, 'Gateway': GATEWAY, 'IPRange': RANGE, 'AuxiliaryAddresses': {'dpyaux': AUX}}],
   'IPAM config')
eq(a['Options'], {'com.docker.network.bridge.enable_icc': 'true'}, 'options')
e = raises(docker.errors.APIError, c.networks.create, nn, check_duplicate=True)
eq(e.status_code, 409, 'duplicate network name')

# An attachable network with default IPAM, for the list filters.
n2 = name('xnet')
net2 = c.networks.create(n2, attachable=True, labels={'dpy.net': 'b'})
undo.add(remove_network, c, n2)
eq(net2.attrs['Attachable'], True, 'attachable')
check(len(net2.attrs['IPAM']['Config']) == 1 and 'Subnet' in net2.attrs['IPAM']['Config'][0], 'default IPAM', net2.attrs['IPAM'])

names = lambda ns: sorted(x.name for x in ns)
eq(names(c.networks.list(filters={'label': 'dpy.net'})), sorted([nn, n2]), 'label filter')
eq(names(c.networks.list(filters={'label': 'dpy.net=b'})), [n2], 'label=value filter')
# names= matches a part of the name, as Docker does.
eq(names(c.networks.list(names=[nn])), [nn], 'names')
eq(names(c.networks.list(ids=[net2.id])), [n2], 'ids')
eq(names(c.networks.list(filters={'driver': 'bridge', 'label': 'dpy.net'})), sorted([nn, n2]), 'driver filter')
eq(names(c.networks.list(filters={'type': 'custom', 'label': 'dpy.net'})), sorted([nn, n2]), 'type=custom')
check('host' in names(c.networks.list(filters={'type': 'builtin'})), 'type=builtin has host')
# greedy=True inspects each (Containers filled in).
check(all('Containers' in x.attrs for x in c.networks.list(names=[nn], greedy=True)), 'greedy')
eq(c.networks.get(net.id[:12]).name, nn, 'get by short id')
raises(docker.errors.NotFound, c.networks.get, 'dpy-no-such-net')

# connect with aliases and a fixed address; the container sees both.
cn = name('netc')
ct = c.containers.create(IMAGE, ['sleep', '300'], name=cn)
undo.add(remove_container, c, cn)
default_nets = sorted(ct.attrs['NetworkSettings']['Networks'])
net.connect(ct, aliases=['dpyalias'], ipv4_address=FIXED)
ct.start()
ct.reload()
ep = ct.attrs['NetworkSettings']['Networks'][nn]
has_keys(ep, ['IPAMConfig', 'Links', 'Aliases', 'NetworkID', 'EndpointID', 'Gateway', 'IPAddress', 'IPPrefixLen',
              'IPv6Gateway', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen', 'MacAddress', 'DriverOpts'], 'endpoint')
eq(ep['IPAddress'], FIXED, 'fixed address')
eq(ep['IPAMConfig'], {'IPv4Address': FIXED}, 'IPAMConfig')
eq(ep['Gateway'], GATEWAY, 'gateway')
eq(ep['NetworkID'], net.id, 'network id')
check('dpyalias' in ep['Aliases'], 'alias', ep['Aliases'])
out = ct.exec_run(['ip', '-4', 'addr']).output.decode()
check(FIXED + '/28' in out, 'address inside', out)
net.reload()
eq([x.id for x in net.containers], [ct.id], 'network containers')
has_keys(net.attrs['Containers'][ct.id], ['Name', 'EndpointID', 'MacAddress', 'IPv4Address', 'IPv6Address'], 'network container entry')
eq(net.attrs['Containers'][ct.id]['IPv4Address'], FIXED + '/28', 'network container address')

# A second container finds the first by alias on the shared network.
cn2 = name('netc2')
ct2 = c.containers.run(IMAGE, ['sleep', '300'], name=cn2, detach=True, network=nn)
undo.add(remove_container, c, cn2)
ct2.reload()
ip2 = ct2.attrs['NetworkSettings']['Networks'][nn]['IPAddress']
check(ip2 != AUX and ip2.startswith(base[0] + '.'), 'a dynamic address skips the auxiliary one', ip2)
ping = ct2.exec_run(['ping', '-c', '1', '-W', '5', 'dpyalias'])
eq(ping.exit_code, 0, 'ping by alias')
check(FIXED in ping.output.decode(), 'alias resolves to the fixed address', ping.output)
eq(sorted(x.name for x in c.containers.list(filters={'network': nn})), sorted([cn, cn2]), 'containers by network')
e = raises(docker.errors.APIError, net.connect, ct2)
check(e.status_code in (403, 409), 'connecting twice', e.status_code)

# The low-level call with the endpoint config shapes compose sends.
c.api.connect_container_to_network(ct.id, n2, aliases=['x1'], links=None, ipv4_address=None, ipv6_address=None,
                                   link_local_ips=None)
ct.reload()
eq(sorted(ct.attrs['NetworkSettings']['Networks']), sorted(default_nets + [nn, n2]), 'three networks')

# disconnect
net.disconnect(ct)
net2.disconnect(ct.id, force=True)
ct.reload()
eq(sorted(ct.attrs['NetworkSettings']['Networks']), default_nets, 'disconnected')
e = raises(docker.errors.APIError, net.disconnect, ct)
eq((e.status_code, e.explanation), (500, f'container {ct.id} is not connected to network {nn}'), 'disconnect when not connected')

# remove of a network in use is refused.
e = raises(docker.errors.APIError, net.remove)
eq(e.status_code, 403, 'remove of a network in use')
ct2.remove(force=True)
net.remove()
raises(docker.errors.NotFound, c.networks.get, nn)

# prune: the unused one with the label goes.
pr = c.networks.prune(filters={'label': 'dpy.net'})
eq(pr, {'NetworksDeleted': [n2]}, 'prune answer')
check('host' in names(c.networks.list()), 'builtins stay')

undo.run()
c.close()
done(__file__)
