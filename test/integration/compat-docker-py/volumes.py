"""volumes: create, list with filters, get, remove, prune."""
import docker
from common import IMAGE, Cleanup, api, check, client, done, eq, has_keys, name, raises, remove_container, remove_volume

c = client()
undo = Cleanup()

vn = name('vol')
v = c.volumes.create(vn, driver='local', labels={'dpy.vol': 'a'})
undo.add(remove_volume, c, vn)
check(isinstance(v, docker.models.volumes.Volume), 'volumes.create returns a Volume')
eq(v.name, vn, 'volume name')
has_keys(v.attrs, ['Name', 'Driver', 'Mountpoint', 'Labels', 'Scope', 'Options', 'CreatedAt'], 'volume inspect')
eq((v.attrs['Driver'], v.attrs['Scope'], v.attrs['Labels']), ('local', 'local', {'dpy.vol': 'a'}), 'volume attrs')
check(v.attrs['Mountpoint'].endswith(f'/volumes/{vn}/_data'), 'Mountpoint', v.attrs['Mountpoint'])
# Creating it again is fine and gives the same volume (compose relies on it).
eq(c.volumes.create(vn, labels={'dpy.vol': 'a'}).name, vn, 'create again')
eq(c.volumes.get(vn).attrs['Labels'], {'dpy.vol': 'a'}, 'volumes.get')
raises(docker.errors.NotFound, c.volumes.get, 'dpy-no-such-volume')

# Options of the local driver (a tmpfs) and the low-level call.
tn = name('tmpfsvol')
lv = c.api.create_volume(tn, driver='local', driver_opts={'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=1m'},
                         labels={'dpy.vol': 'b'})
undo.add(remove_volume, c, tn)
eq(lv['Options'], {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=1m'}, 'driver options')
# An anonymous volume gets a 64-hex name.
anon = c.volumes.create()
undo.add(remove_volume, c, anon.name)
check(len(anon.name) == 64, 'anonymous volume name', anon.name)

# Data written through one container is seen by the next.
cn = name('volwriter')
c.containers.run(IMAGE, ['sh', '-c', 'echo kept > /v/f'], volumes={vn: {'bind': '/v', 'mode': 'rw'}}, name=cn)
undo.add(remove_container, c, cn)
eq(c.containers.run(IMAGE, ['cat', '/v/f'], volumes=[f'{vn}:/v:ro'], remove=True), b'kept\n', 'volume data')
eq([x.name for x in c.containers.list(all=True, filters={'volume': vn})], [cn], 'containers by volume')
eq([x.name for x in c.containers.list(all=True, filters={'volume': '/v', 'name': cn})], [cn], 'containers by mount point')
out = c.containers.run(IMAGE, ['sh', '-c', 'mount | grep " /t "'], volumes={tn: {'bind': '/t', 'mode': 'rw'}}, remove=True)
check(b'tmpfs' in out, 'tmpfs volume mounted', out)

# list and filters
names = lambda vs: sorted(x.name for x in vs)
eq(names(c.volumes.list(filters={'label': 'dpy.vol'})), sorted([vn, tn]), 'label filter')
eq(names(c.volumes.list(filters={'label': 'dpy.vol=b'})), [tn], 'label=value filter')
eq(names(c.volumes.list(filters={'name': tn})), [tn], 'name filter')
eq(names(c.volumes.list(filters={'driver': 'local', 'label': 'dpy.vol'})), sorted([vn, tn]), 'driver filter')
check(anon.name in names(c.volumes.list(filters={'dangling': True})), 'dangling lists the anonymous one')
check(vn not in names(c.volumes.list(filters={'dangling': True})), 'a used volume is not dangling')
eq(names(c.volumes.list(filters={'dangling': False, 'label': 'dpy.vol'})), [vn], 'dangling=false')
low = c.api.volumes(filters={'label': 'dpy.vol=a'})
has_keys(low, ['Volumes', 'Warnings'], 'APIClient.volumes')

# remove: in use is a conflict; force does not override that.
e = raises(docker.errors.APIError, c.volumes.get(vn).remove)
eq(e.status_code, 409, 'remove of a volume in use')
c.containers.get(cn).remove()
c.volumes.get(vn).remove()
raises(docker.errors.NotFound, c.volumes.get, vn)
e = raises(docker.errors.NotFound, c.api.remove_volume, vn)

# prune: before API 1.42 every unused volume, since then only anonymous ones unless all=true.
for suffix in ('p1', 'p2', 'p3'):
    c.volumes.create(name(suffix), labels={'dpy.prune': suffix})
    undo.add(remove_volume, c, name(suffix))
pr = api(version='1.41').prune_volumes(filters={'label': 'dpy.prune=p1'})
has_keys(pr, ['VolumesDeleted', 'SpaceReclaimed'], 'prune answer')
eq(pr['VolumesDeleted'], [name('p1')], 'prune at 1.41 takes a named volume')
if docker.utils.version_gte(c.api.api_version, '1.42'):
    eq(c.volumes.prune(filters={'label': 'dpy.prune=p2'})['VolumesDeleted'], [], 'prune at 1.42+ keeps named volumes')
    eq(c.volumes.prune(filters={'label': 'dpy.prune=p2', 'all': True})['VolumesDeleted'], [name('p2')], 'prune all=true')
eq(api(version='1.41').prune_volumes(filters={'label': 'dpy.prune=p3'})['VolumesDeleted'], [name('p3')], 'prune p3')
raises(docker.errors.NotFound, c.volumes.get, name('p1'))
# A volume with options (here the tmpfs one) is never pruned: it is someone else's filesystem.
eq(api(version='1.41').prune_volumes(filters={'label': 'dpy.vol=b'})['VolumesDeleted'], [], 'prune keeps option volumes')
c.volumes.get(tn)

undo.run()
c.close()
done(__file__)
