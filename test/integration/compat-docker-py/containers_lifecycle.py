"""create, start, stop, restart, kill, pause, unpause, rename, update, remove, list filters, prune."""
import time

import docker
from common import IMAGE, Cleanup, check, client, done, eq, has_keys, name, raises, remove_container, remove_volume

c = client()
undo = Cleanup()

# A shell that exits with the number of the signal it gets, so kill(signal) is observable.
TRAP = 'trap "exit 10" USR1; trap "exit 15" TERM; echo ready; while :; do sleep 0.1; done'

n = name('life')
ct = c.containers.create(IMAGE, ['sh', '-c', TRAP], name=n, labels={'dpy.role': 'life', 'dpy.x': '1'},
                         volumes={name('lifevol'): {'bind': '/data', 'mode': 'rw'}})
undo.add(remove_volume, c, name('lifevol'))
undo.add(remove_container, c, n)
eq(ct.status, 'created', 'created status')
has_keys(ct.attrs, ['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath',
                    'LogPath', 'Name', 'RestartCount', 'Driver', 'Platform', 'MountLabel', 'ProcessLabel',
                    'AppArmorProfile', 'ExecIDs', 'HostConfig', 'GraphDriver', 'Mounts', 'Config', 'NetworkSettings'],
         'inspect')
eq(ct.attrs['Name'], '/' + n, 'inspect Name has the slash')
eq(ct.attrs['Path'], 'sh', 'Path')
eq([m['Name'] for m in ct.attrs['Mounts']], [name('lifevol')], 'named volume mount')

ct.start()
for line in ct.logs(stream=True, follow=True):
    break
ct.reload()
eq(ct.status, 'running', 'running')

ct.pause()
ct.reload()
eq(ct.status, 'paused', 'paused')
eq(ct.attrs['State']['Paused'], True, 'State.Paused')
e = raises(docker.errors.APIError, ct.pause)
eq(e.status_code, 409, 'pausing twice is a conflict')
ct.unpause()
ct.reload()
eq(ct.status, 'running', 'unpaused')
e = raises(docker.errors.APIError, ct.unpause)
# Docker 20.10 answered 500, moby since 23 a 409 conflict.
check(e.status_code in (409, 500), 'unpause of a running container fails', e.status_code)

# kill with a signal by name and by number.
ct.kill(signal='SIGUSR1')
eq(ct.wait()['StatusCode'], 10, 'kill SIGUSR1')
e = raises(docker.errors.APIError, ct.kill)
eq(e.status_code, 409, 'kill of a stopped container is a conflict')
ct.start()
ct.kill(signal=10)
eq(ct.wait()['StatusCode'], 10, 'kill signal=10')

# stop sends SIGTERM first; restart stops and starts again.
ct.start()
ct.stop(timeout=5)
eq(ct.wait()['StatusCode'], 15, 'stop sends TERM')
ct.restart(timeout=5)
ct.reload()
eq(ct.status, 'running', 'restart of a stopped container')
pid = ct.attrs['State']['Pid']
ct.restart(timeout=5)
ct.reload()
check(ct.attrs['State']['Pid'] != pid, 'restart made a new process', ct.attrs['State']['Pid'])
# Stopping a stopped container is fine (304 under the hood, no error).
ct.stop(timeout=5)
ct.stop(timeout=5)

# rename
n2 = name('life2')
ct.rename(n2)
undo.add(remove_container, c, n2)
ct.reload()
eq(ct.name, n2, 'renamed')
# The name as inspect shows it, with its slash: Docker's router cleans /containers//name/json.
eq(c.containers.get(ct.attrs['Name']).id, ct.id, 'get by /name')
raises(docker.errors.NotFound, c.containers.get, n)
other = c.containers.create(IMAGE, ['true'], name=n)
e = raises(docker.errors.APIError, ct.rename, n)
eq(e.status_code, 409, 'rename onto a used name')
other.remove()

# update: resources and restart policy.
res = ct.update(mem_limit='64m', memswap_limit='128m', cpu_shares=512,
                restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 2})
check(isinstance(res, dict) and 'Warnings' in res, 'update answer', res)
ct.reload()
hc = ct.attrs['HostConfig']
eq(hc['Memory'], 64 * 1024 * 1024, 'updated Memory')
eq(hc['MemorySwap'], 128 * 1024 * 1024, 'updated MemorySwap')
eq(hc['CpuShares'], 512, 'updated CpuShares')
eq(hc['RestartPolicy'], {'Name': 'on-failure', 'MaximumRetryCount': 2}, 'updated RestartPolicy')

# remove: running needs force; v=True removes anonymous volumes.
ct.start()
e = raises(docker.errors.APIError, ct.remove)
eq(e.status_code, 409, 'remove of a running container')
anon = c.containers.create(IMAGE, ['true'], name=name('anon'), volumes=['/anon'])
undo.add(remove_container, c, name('anon'))
vol = anon.attrs['Mounts'][0]['Name']
undo.add(remove_volume, c, vol)
anon.remove(v=True)
raises(docker.errors.NotFound, c.volumes.get, vol)
ct.remove(force=True)
raises(docker.errors.NotFound, c.containers.get, n2)
# The named volume stays.
c.volumes.get(name('lifevol'))

# A restart policy at work: on-failure:2 runs it three times, then it stays exited.
rn = name('restarts')
t1 = int(time.time()) - 1
rp = c.containers.run(IMAGE, ['sh', '-c', 'exit 3'], name=rn, detach=True,
                      restart_policy={'Name': 'on-failure', 'MaximumRetryCount': 2})
undo.add(remove_container, c, rn)
dies = 0
for ev in c.events(since=t1, decode=True, filters={'container': rp.id, 'event': 'die'}):
    eq(ev['Actor']['Attributes']['exitCode'], '3', 'die event exit code')
    dies += 1
    if dies == 3:
        break
eq(rp.wait()['StatusCode'], 3, 'exit code after the retries')
rp.reload()
eq((rp.attrs['RestartCount'], rp.status), (2, 'exited'), 'restart count')
rp.remove()

# containers.list and its filters.
mk = []
for suffix, cmd, labels in [('lsrun', ['sleep', '300'], {'dpy.ls': 'a'}), ('lsexit', ['sh', '-c', 'exit 3'], {'dpy.ls': 'b'}),
                            ('lscreated', ['true'], {'dpy.ls': 'b'})]:
    x = c.containers.create(IMAGE, cmd, name=name(suffix), labels=labels)
    undo.add(remove_container, c, name(suffix))
    mk.append(x)
mk[0].start()
mk[1].start()
mk[1].wait()
names = lambda cs: sorted(x.name for x in cs)
mine = {'label': 'dpy.ls'}
eq(names(c.containers.list(filters=mine)), [name('lsrun')], 'list running only')
eq(names(c.containers.list(all=True, filters=mine)), sorted(name(s) for s in ['lsrun', 'lsexit', 'lscreated']), 'list all')
eq(names(c.containers.list(all=True, filters={'label': 'dpy.ls=b'})), sorted([name('lsexit'), name('lscreated')]), 'label=value')
eq(names(c.containers.list(all=True, filters={**mine, 'status': 'exited'})), [name('lsexit')], 'status=exited')
eq(names(c.containers.list(all=True, filters={**mine, 'status': 'created'})), [name('lscreated')], 'status=created')
eq(names(c.containers.list(all=True, filters={**mine, 'exited': 3})), [name('lsexit')], 'exited=3')
eq(names(c.containers.list(all=True, filters={**mine, 'exited': 0})), [], 'exited=0')
eq(names(c.containers.list(all=True, filters={'name': name('lsexit')})), [name('lsexit')], 'name filter')
eq(names(c.containers.list(all=True, filters={**mine, 'ancestor': IMAGE})), sorted(name(s) for s in ['lsrun', 'lsexit', 'lscreated']), 'ancestor')
eq(names(c.containers.list(all=True, filters={'id': mk[0].id[:12]})), [name('lsrun')], 'id filter')
eq(len(c.containers.list(all=True, filters=mine, limit=1)), 1, 'limit')
eq(names(c.containers.list(all=True, filters={**mine, 'status': ['exited', 'created']})), sorted([name('lsexit'), name('lscreated')]), 'two statuses')
bad = raises(docker.errors.APIError, c.containers.list, filters={'status': 'bogus'})
eq(bad.status_code, 400, 'bad status filter')
# since/before take a container.
eq(names(c.containers.list(all=True, filters={**mine, 'since': mk[0].id})), sorted([name('lsexit'), name('lscreated')]), 'since')
eq(names(c.containers.list(all=True, filters={**mine, 'before': mk[2].id})), sorted([name('lsrun'), name('lsexit')]), 'before')
# sparse=True skips the inspect of each.
sp = c.containers.list(all=True, filters=mine, sparse=True)
has_keys(sp[0].attrs, ['Id', 'Names', 'Image', 'ImageID', 'Command', 'Created', 'State', 'Status', 'Ports', 'Labels', 'HostConfig',
          'NetworkSettings', 'Mounts'], 'list summary')

# health filter: a container with a healthcheck that passes.
hn = name('health')
t0 = int(time.time()) - 1
h = c.containers.run(IMAGE, ['sleep', '300'], name=hn, detach=True,
                     healthcheck={'test': ['CMD', 'true'], 'interval': 100_000_000, 'retries': 1})
undo.add(remove_container, c, hn)
eq(h.attrs['Config']['Healthcheck']['Test'], ['CMD', 'true'], 'healthcheck in config')
seen = False
for ev in c.events(decode=True, filters={'container': h.id, 'event': 'health_status'}, since=t0):
    seen = 'healthy' in ev['status']
    break
check(seen, 'health_status event')
eq(names(c.containers.list(filters={'health': 'healthy', 'name': hn})), [hn], 'health=healthy')
eq(names(c.containers.list(filters={'health': 'unhealthy', 'name': hn})), [], 'health=unhealthy')
eq(names(c.containers.list(filters={'health': 'none', **mine})), [name('lsrun')], 'health=none')

# prune removes the stopped ones with the label, and says which.
pr = c.containers.prune(filters={'label': 'dpy.ls'})
eq(sorted(pr['ContainersDeleted']), sorted([mk[1].id, mk[2].id]), 'prune deleted')
check(isinstance(pr['SpaceReclaimed'], int), 'prune SpaceReclaimed', pr)
eq(names(c.containers.list(all=True, filters=mine)), [name('lsrun')], 'after prune')

undo.run()
c.close()
done(__file__)
