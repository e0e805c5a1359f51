"""The low-level APIClient with the argument forms real programs send: port bindings in
every shape, binds as a dict, memory as strings, restart policies, log configs, extra
hosts as a dict, DNS, ulimits, healthchecks with None values, nulls all over HostConfig."""
import json
import socket
import time
import urllib.request

import docker
from common import IMAGE, Cleanup, api, check, done, eq, has_keys, name, raises, remove_container, remove_volume

a = api()
undo = Cleanup()
hc = a.create_host_config


def create(suffix, command, **kwargs):
    n = name(suffix)
    r = a.create_container(IMAGE, command, name=n, **kwargs)
    undo.add(remove_container, a, n)
    has_keys(r, ['Id', 'Warnings'], 'create answer')
    return r['Id']


def run_output(cid):
    a.start(cid)
    eq(a.wait(cid)['StatusCode'], 0, 'exit code')
    return a.logs(cid, stdout=True, stderr=True)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Port bindings: container port → None (any), a host port, (ip,), (ip, port), a list.
fixed = free_port()
cid = create('ports', ['sh', '-c', 'mkdir /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www'],
             ports=[80, 81, (82, 'udp'), 83],
             host_config=hc(port_bindings={80: ('127.0.0.1', fixed), 81: None, '82/udp': ('127.0.0.1',),
                                           83: [('127.0.0.1', None), ('127.0.0.1', None)]}))
i = a.inspect_container(cid)
eq(i['HostConfig']['PortBindings'], {
    '80/tcp': [{'HostIp': '127.0.0.1', 'HostPort': str(fixed)}],
    '81/tcp': [{'HostIp': '', 'HostPort': ''}],
    '82/udp': [{'HostIp': '127.0.0.1', 'HostPort': ''}],
    '83/tcp': [{'HostIp': '127.0.0.1', 'HostPort': ''}, {'HostIp': '127.0.0.1', 'HostPort': ''}],
}, 'PortBindings as stored')
eq(sorted(i['Config']['ExposedPorts']), ['80/tcp', '81/tcp', '82/udp', '83/tcp'], 'ExposedPorts')
a.start(cid)
ports = a.inspect_container(cid)['NetworkSettings']['Ports']
eq(ports['80/tcp'], [{'HostIp': '127.0.0.1', 'HostPort': str(fixed)}], 'published fixed port')
check(ports['81/tcp'] and all(p['HostPort'].isdigit() and int(p['HostPort']) > 0 for p in ports['81/tcp']), 'random port', ports['81/tcp'])
eq(len(ports['83/tcp']), 2, 'two bindings of one port')
check(ports['83/tcp'][0]['HostPort'] != ports['83/tcp'][1]['HostPort'], 'two different host ports', ports['83/tcp'])
eq(a.port(cid, 80), [{'HostIp': '127.0.0.1', 'HostPort': str(fixed)}], 'APIClient.port')
body = None
deadline = time.monotonic() + 30
while body is None:
    try:
        body = urllib.request.urlopen(f'http://127.0.0.1:{fixed}/', timeout=5).read()
    except OSError:
        if time.monotonic() > deadline:
            raise
eq(body, b'served\n', 'published port serves')
summary = a.containers(filters={'id': cid})[0]
check({'IP': '127.0.0.1', 'PrivatePort': 80, 'PublicPort': fixed, 'Type': 'tcp'} in summary['Ports'], 'list Ports', summary['Ports'])
a.remove_container(cid, force=True)

# Binds as a dict and as a list, volumes declared on the side (docker-py's old style).
vol = name('llvol')
undo.add(remove_volume, a, vol)
cid = create('binds', ['sh', '-c', 'echo w > /rw/f && cat /ro/hostname && ! touch /ro/x 2>/dev/null'],
             volumes=['/ro', '/rw'],
             host_config=hc(binds={'/etc': {'bind': '/ro', 'mode': 'ro'}, vol: {'bind': '/rw', 'mode': 'rw'}}))
i = a.inspect_container(cid)
eq(sorted(i['HostConfig']['Binds']), sorted(['/etc:/ro:ro', f'{vol}:/rw:rw']), 'Binds from the dict')
mounts = {m['Destination']: m for m in i['Mounts']}
eq((mounts['/ro']['Type'], mounts['/ro']['RW'], mounts['/ro']['Source']), ('bind', False, '/etc'), 'bind mount')
eq((mounts['/rw']['Type'], mounts['/rw']['Name'], mounts['/rw']['RW']), ('volume', vol, True), 'volume mount')
out = run_output(cid).decode()
check(out.endswith('\n') and out.strip() != '', 'binds at work', out)
a.remove_container(cid)
cid = create('bindlist', ['cat', '/rw/f'], host_config=hc(binds=[f'{vol}:/rw:ro']))
eq(run_output(cid), b'w\n', 'volume data through a list bind')

# Memory as strings and numbers; swap, reservation, shm, swappiness.
cid = create('mem', ['sh', '-c', 'df -k /dev/shm | tail -1'],
             host_config=hc(mem_limit='32m', memswap_limit='64m', mem_reservation='16m', shm_size='8m', mem_swappiness=10))
h = a.inspect_container(cid)['HostConfig']
eq((h['Memory'], h['MemorySwap'], h['MemoryReservation'], h['ShmSize'], h['MemorySwappiness']),
   (32 << 20, 64 << 20, 16 << 20, 8 << 20, 10), 'memory settings')
check(b' 8192 ' in run_output(cid), 'shm size inside')
cid = create('memint', ['true'], host_config=hc(mem_limit=33554432, memswap_limit=-1, cpu_shares=512, nano_cpus=500000000))
h = a.inspect_container(cid)['HostConfig']
eq((h['Memory'], h['MemorySwap'], h['CpuShares'], h['NanoCpus']), (33554432, -1, 512, 500000000), 'numeric limits')
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('membad'),
           host_config=hc(mem_limit='1k'))
undo.add(remove_container, a, name('membad'))
eq(e.status_code, 400, 'too small a memory limit')
check('Minimum memory limit' in e.explanation, 'memory limit message', e.explanation)

# Restart policies.
cid = create('restart', ['true'], host_config=hc(restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 3}))
eq(a.inspect_container(cid)['HostConfig']['RestartPolicy'], {'Name': 'on-failure', 'MaximumRetryCount': 3}, 'on-failure')
cid = create('restart2', ['true'], host_config=hc(restart_policy={'Name': 'always'}))
eq(a.inspect_container(cid)['HostConfig']['RestartPolicy'], {'Name': 'always', 'MaximumRetryCount': 0}, 'always')
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('restartbad'),
           host_config=hc(restart_policy={'Name': 'sometimes'}))
undo.add(remove_container, a, name('restartbad'))
eq(e.status_code, 400, 'unknown restart policy')
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('autorestart'),
           host_config=hc(restart_policy={'Name': 'always'}, auto_remove=True))
undo.add(remove_container, a, name('autorestart'))
eq(e.status_code, 400, 'auto-remove with a restart policy')

# Log configs: the LogConfig type and a dict; 'none' has no logs to read.
cid = create('log', ['echo', 'logged'], host_config=hc(log_config=docker.types.LogConfig(
    type=docker.types.LogConfig.types.JSON, config={'max-size': '1m', 'max-file': '2'})))
eq(a.inspect_container(cid)['HostConfig']['LogConfig'], {'Type': 'json-file', 'Config': {'max-size': '1m', 'max-file': '2'}}, 'LogConfig')
eq(run_output(cid), b'logged\n', 'json-file logs')
cid = create('lognone', ['echo', 'lost'], host_config=hc(log_config={'Type': 'none', 'Config': {}}))
a.start(cid)
a.wait(cid)
e = raises(docker.errors.APIError, a.logs, cid)
check('does not support reading' in e.explanation or 'configured logging driver does not support reading' in e.explanation,
      'logs of a none driver', e.explanation)
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('logbad'),
           host_config=hc(log_config={'Type': 'json-file', 'Config': {'bogus-opt': '1'}}))
undo.add(remove_container, a, name('logbad'))
eq((e.status_code, e.explanation), (400, "unknown log opt 'bogus-opt' for json-file log driver"), 'unknown log option')

# Extra hosts as a dict and a list, DNS settings: what lands in /etc/hosts and resolv.conf.
cid = create('hosts', ['sh', '-c', 'cat /etc/hosts /etc/resolv.conf'],
             host_config=hc(extra_hosts={'dpyhost': '10.1.2.3'}, dns=['10.0.0.53'], dns_search=['example.test'],
                            dns_opt=['ndots:2']))
h = a.inspect_container(cid)['HostConfig']
eq(h['ExtraHosts'], ['dpyhost:10.1.2.3'], 'ExtraHosts from a dict')
eq((h['Dns'], h['DnsSearch'], h['DnsOptions']), (['10.0.0.53'], ['example.test'], ['ndots:2']), 'DNS settings')
out = run_output(cid).decode()
check('10.1.2.3\tdpyhost' in out, 'extra host in /etc/hosts', out)
check('nameserver 10.0.0.53' in out and 'search example.test' in out and 'options ndots:2' in out, 'resolv.conf', out)
cid = create('hostslist', ['cat', '/etc/hosts'], host_config=hc(extra_hosts=['a.test:10.9.9.9', 'b.test:10.9.9.8']))
out = run_output(cid).decode()
check('10.9.9.9\ta.test' in out and '10.9.9.8\tb.test' in out, 'extra hosts list', out)

# Ulimits
cid = create('ulimits', ['sh', '-c', 'ulimit -n; ulimit -Hn'],
             host_config=hc(ulimits=[docker.types.Ulimit(name='nofile', soft=1024, hard=2048)]))
eq(a.inspect_container(cid)['HostConfig']['Ulimits'], [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}], 'Ulimits')
eq(run_output(cid), b'1024\n2048\n', 'ulimit inside')

# Healthchecks with None values (compose sends them), a string test, NONE.
cid = create('health', ['sleep', '300'], healthcheck={'test': ['CMD-SHELL', 'true'], 'interval': None, 'timeout': None,
                                                       'retries': None, 'start_period': None})
eq(a.inspect_container(cid)['Config']['Healthcheck'], {'Test': ['CMD-SHELL', 'true']}, 'healthcheck with Nones')
cid = create('health2', ['true'], healthcheck={'test': 'exit 0', 'interval': 1000000000, 'retries': 2})
eq(a.inspect_container(cid)['Config']['Healthcheck'], {'Test': ['CMD-SHELL', 'exit 0'], 'Interval': 1000000000, 'Retries': 2},
   'healthcheck from a string')
cid = create('health3', ['true'], healthcheck=docker.types.Healthcheck(test=['NONE']))
eq(a.inspect_container(cid)['Config']['Healthcheck'], {'Test': ['NONE']}, 'healthcheck NONE')
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('healthbad'),
           healthcheck={'test': ['CMD', 'true'], 'interval': 1000})
undo.add(remove_container, a, name('healthbad'))
eq(e.status_code, 400, 'too short a healthcheck interval')

# A mixed bag: entrypoint as a string, env with a None value, labels as a list, user,
# workdir, stop signal/timeout, tty, caps, sysctls, tmpfs, read-only, init, devices.
script = ('echo $A-$B; id -u; id -G; pwd; ls /dev/xnull; cat /proc/sys/net/ipv4/ip_forward; mount | grep " /run ";'
          ' touch /x 2>/dev/null || echo ro')
cid = create('misc', [script],
             entrypoint='/bin/sh -c', environment={'A': '1', 'B': None}, user='nobody', working_dir='/tmp',
             domainname='dom.test', labels=['l1', 'l2'], stop_signal='SIGUSR1', stop_timeout=7,
             host_config=hc(cap_add=['NET_ADMIN'], cap_drop=['MKNOD'], security_opt=['no-new-privileges'],
                            sysctls={'net.ipv4.ip_forward': '1'}, tmpfs={'/run': 'size=1m'}, read_only=True, init=True,
                            cpu_period=100000, cpu_quota=50000, pids_limit=50, group_add=['100'],
                            devices=['/dev/null:/dev/xnull:rwm'], network_mode='none', privileged=False))
i = a.inspect_container(cid)
eq((i['Path'], i['Args']), ('/bin/sh', ['-c', script]), 'entrypoint from a string')
eq(i['Config']['Entrypoint'], ['/bin/sh', '-c'], 'Entrypoint')
check('B' in i['Config']['Env'] and 'A=1' in i['Config']['Env'], 'env with None', i['Config']['Env'])
eq(i['Config']['Labels'], {'l1': '', 'l2': ''}, 'labels from a list')
eq((i['Config']['StopSignal'], i['Config']['StopTimeout']), ('SIGUSR1', 7), 'stop signal and timeout')
h = i['HostConfig']
eq((h['CapAdd'], h['CapDrop'], h['Tmpfs'], h['ReadonlyRootfs'], h['Init'], h['PidsLimit'], h['NetworkMode']),
   (['NET_ADMIN'], ['MKNOD'], {'/run': 'size=1m'}, True, True, 50, 'none'), 'HostConfig settings')
eq(h['Devices'], [{'PathOnHost': '/dev/null', 'PathInContainer': '/dev/xnull', 'CgroupPermissions': 'rwm'}], 'Devices')
out = run_output(cid).decode().split('\n')
# B=None unsets B; the primary group leads the groups; the sysctl is set in its namespace.
eq(out[:6], ['1-', '65534', '65534 100', '/tmp', '/dev/xnull', '1'], 'misc output')
check('tmpfs' in out[6] and out[7] == 'ro', 'tmpfs and read-only root', out)

# The raw JSON other clients send: nulls in place of every absent field.
raw = {
    'Image': IMAGE, 'Cmd': ['echo', 'nulls'], 'Entrypoint': None, 'Env': None, 'Labels': None, 'Volumes': None,
    'ExposedPorts': None, 'WorkingDir': '', 'User': '', 'Healthcheck': None, 'StopTimeout': None, 'OnBuild': None,
    'HostConfig': {
        'Binds': None, 'PortBindings': None, 'RestartPolicy': None, 'LogConfig': None, 'Ulimits': None, 'Mounts': None,
        'DeviceRequests': None, 'Devices': None, 'Dns': None, 'DnsSearch': None, 'DnsOptions': None, 'ExtraHosts': None,
        'CapAdd': None, 'CapDrop': None, 'SecurityOpt': None, 'Tmpfs': None, 'Sysctls': None, 'Links': None,
        'VolumesFrom': None, 'GroupAdd': None, 'Memory': None, 'MemorySwap': None, 'NanoCpus': None, 'CpuShares': None,
        'PidsLimit': None, 'OomKillDisable': None, 'Init': None, 'NetworkMode': None, 'ShmSize': None,
        'BlkioWeightDevice': None, 'MemorySwappiness': None, 'ConsoleSize': None, 'Isolation': None,
    },
    'NetworkingConfig': None,
}
res = a._post_json(a._url('/containers/create'), data=raw, params={'name': name('nulls')})
undo.add(remove_container, a, name('nulls'))
cid = a._result(res, True)['Id']
i = a.inspect_container(cid)
eq(i['HostConfig']['RestartPolicy']['MaximumRetryCount'], 0, 'null RestartPolicy')
eq(i['HostConfig']['LogConfig']['Type'], 'json-file', 'null LogConfig')
eq(run_output(cid), b'nulls\n', 'a container created from nulls runs')
# An empty HostConfig and no HostConfig at all.
for suffix, body in [('emptyhc', {'Image': IMAGE, 'Cmd': ['true'], 'HostConfig': {}}), ('nohc', {'Image': IMAGE, 'Cmd': ['true']})]:
    res = a._post_json(a._url('/containers/create'), data=body, params={'name': name(suffix)})
    undo.add(remove_container, a, name(suffix))
    eq(run_output(a._result(res, True)['Id']), b'', suffix)

# Bad requests are 400s with Docker's messages.
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name='bad name!')
eq(e.status_code, 400, 'bad name')
e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('badport'), ports=[80],
           host_config=hc(port_bindings={80: ('127.0.0.1', 'notaport')}))
undo.add(remove_container, a, name('badport'))
eq(e.status_code, 400, 'bad host port')
# An unknown capability is refused at create, so `containers.run` leaves nothing behind.
for field in ('cap_add', 'cap_drop'):
    e = raises(docker.errors.APIError, a.create_container, IMAGE, ['true'], name=name('badcap'),
               host_config=hc(**{field: ['NOPE']}))
    undo.add(remove_container, a, name('badcap'))
    eq((e.status_code, e.explanation), (400, f'invalid {"CapAdd" if field == "cap_add" else "CapDrop"}: unknown capability: "CAP_NOPE"'),
       f'unknown capability in {field}')
    raises(docker.errors.NotFound, a.inspect_container, name('badcap'))
res = a._post(a._url('/containers/create'), data='{not json', headers={'Content-Type': 'application/json'})
# Docker 20.10 answered 500, later ones 400.
check(res.status_code in (400, 500), 'malformed JSON', res.status_code)
check('message' in json.loads(res.text), 'error body shape', res.text)

# create_container with a NetworkingConfig for the default network and a fixed name.
nc = a.create_networking_config({'bridge': a.create_endpoint_config()})
cid = create('netcfg', ['true'], networking_config=nc)
check('bridge' in a.inspect_container(cid)['NetworkSettings']['Networks'], 'networking config')

undo.run()
a.close()
done(__file__)
