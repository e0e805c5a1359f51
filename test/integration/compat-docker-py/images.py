"""images: list, get, inspect, history, tag, remove, save, load, import, prune."""
import io
import json
import tarfile

import docker
from common import IMAGE, Cleanup, check, client, done, eq, has_keys, name, raises, remove_container, remove_image

c = client()
undo = Cleanup()

bb = c.images.get(IMAGE)
check(isinstance(bb, docker.models.images.Image), 'images.get')
check(bb.id.startswith('sha256:') and len(bb.id) == 71, 'image id', bb.id)
check(f'{IMAGE}:latest' in bb.tags, 'tags', bb.tags)
has_keys(bb.attrs, ['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Config', 'Architecture', 'Os',
                    'Size', 'GraphDriver', 'RootFS', 'Metadata'], 'image inspect')
eq(bb.attrs['RootFS']['Type'], 'layers', 'RootFS.Type')
eq(bb.attrs['Os'], 'linux', 'Os')
eq(c.api.inspect_image(IMAGE)['Id'], bb.id, 'APIClient.inspect_image')
eq(c.images.get(bb.short_id.split(':')[1]).id, bb.id, 'get by short id')
raises(docker.errors.ImageNotFound, c.images.get, 'dpy-no-such:latest')

# list: all, by name, filters, quiet (low-level).
ids = [i.id for i in c.images.list()]
check(bb.id in ids, 'images.list', ids)
eq([i.id for i in c.images.list(IMAGE)], [bb.id], 'images.list(name)')
eq([i.id for i in c.images.list(filters={'reference': IMAGE})], [bb.id], 'reference filter')
eq(c.images.list('dpy-no-such'), [], 'list of an unknown name')
summary = c.api.images(name=IMAGE)[0]
has_keys(summary, ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'SharedSize', 'Labels',
                   'Containers'], 'image summary')
check(isinstance(summary['Created'], int), 'summary Created is a unix time', summary['Created'])
eq(c.api.images(name=IMAGE, quiet=True), [bb.id], 'APIClient.images quiet')

# history
h = bb.history()
check(isinstance(h, list) and h, 'history')
has_keys(h[0], ['Id', 'Created', 'CreatedBy', 'Tags', 'Size', 'Comment'], 'history entry')
eq(h[0]['Id'], bb.id, 'history top is the image')

# tag and remove
repo = name('tagged')
check(bb.tag(repo, 'one') is True, 'tag returns True')
undo.add(remove_image, c, f'{repo}:one')
check(c.images.get(f'{repo}:one').id == bb.id, 'tagged')
eq(c.api.tag(IMAGE, repo), True, 'tag without tag')
undo.add(remove_image, c, f'{repo}:latest')
bb.reload()
check({f'{repo}:one', f'{repo}:latest'} <= set(bb.tags), 'tags after tag', bb.tags)
res = c.api.remove_image(f'{repo}:one')
eq(res, [{'Untagged': f'{repo}:one'}], 'remove of a tag untags only')
c.images.remove(f'{repo}:latest')
raises(docker.errors.ImageNotFound, c.images.get, f'{repo}:latest')
# An image a container uses cannot go without force.
tagged = f'{repo}:inuse'
bb.tag(repo, 'inuse')
undo.add(remove_image, c, tagged)

# save: get_image streams a tar with manifest.json; load gives Image objects back.
saved = b''.join(bb.save(named=True))
with tarfile.open(fileobj=io.BytesIO(saved)) as tf:
    manifest = json.load(tf.extractfile('manifest.json'))
eq(manifest[0]['RepoTags'], [f'{IMAGE}:latest'], 'save named=True keeps the first tag')
saved2 = b''.join(c.api.get_image(tagged))
with tarfile.open(fileobj=io.BytesIO(saved2)) as tf:
    eq(json.load(tf.extractfile('manifest.json'))[0]['RepoTags'], [tagged], 'get_image by tag')
c.api.remove_image(tagged)
loaded = c.images.load(saved2)
check(len(loaded) == 1 and isinstance(loaded[0], docker.models.images.Image), 'images.load returns Images', loaded)
eq(loaded[0].id, bb.id, 'loaded image id')
check(tagged in loaded[0].tags, 'loaded tag', loaded[0].tags)
# An untagged save loads as an ID.
untagged = b''.join(c.api.get_image(bb.id))
with tarfile.open(fileobj=io.BytesIO(untagged)) as tf:
    eq(json.load(tf.extractfile('manifest.json'))[0]['RepoTags'], None, 'save by id has no tags')
eq([i.id for i in c.images.load(untagged)], [bb.id], 'load of an untagged archive')
e = raises(docker.errors.ImageLoadError, c.images.load, b'not a tar at all' * 100)
check(str(e), 'load error message')

# import_image from bytes: one layer, with changes.
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tf:
    ti = tarfile.TarInfo('hello.txt')
    data = b'imported\n'
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))
irepo = name('imported')
out = c.api.import_image(src=buf.getvalue(), repository=irepo, tag='v1', changes=['ENV IMPORTED=1', 'CMD ["/x"]'])
undo.add(remove_image, c, f'{irepo}:v1')
status = json.loads(out.strip().splitlines()[-1]) if isinstance(out, str) else out
check('status' in status and status['status'].startswith('sha256:'), 'import answer', out)
imp = c.images.get(f'{irepo}:v1')
eq(imp.id, status['status'], 'import id')
check('IMPORTED=1' in (imp.attrs['Config']['Env'] or []), 'import changes Env', imp.attrs['Config'])
eq(imp.attrs['Config']['Cmd'], ['/x'], 'import changes Cmd')
eq(len(imp.attrs['RootFS']['Layers']), 1, 'import layers')
out = c.api.import_image_from_data(buf.getvalue(), repository=irepo, tag='v2')
undo.add(remove_image, c, f'{irepo}:v2')
imp2 = c.images.get(f'{irepo}:v2')
check(imp2.id != imp.id, 'other changes, other image')

# remove of an image with a container needs force; 409 otherwise.
cn = name('imguser')
c.containers.create(f'{irepo}:v2', ['/x'], name=cn)
undo.add(remove_container, c, cn)
e = raises(docker.errors.APIError, c.images.remove, imp2.id)
eq(e.status_code, 409, 'remove of a used image')
c.containers.get(cn).remove()

# prune: dangling only by default; filters by label.
drepo = name('dangling')
buf2 = io.BytesIO()
with tarfile.open(fileobj=buf2, mode='w') as tf:
    ti = tarfile.TarInfo('d.txt')
    ti.size = 1
    tf.addfile(ti, io.BytesIO(b'd'))
out = c.api.import_image_from_data(buf2.getvalue(), repository=drepo, tag='x', changes=['LABEL dpy.prune=1'])
did = c.images.get(f'{drepo}:x').id
undo.add(remove_image, c, did)
# Tagging another image with the same name leaves it dangling.
c.api.tag(imp.id, drepo, 'x')
undo.add(remove_image, c, f'{drepo}:x')
eq(c.images.get(did).tags, [], 'now dangling')
check(did in [i.id for i in c.images.list(filters={'dangling': True})], 'dangling filter')
pr = c.images.prune(filters={'label': 'dpy.prune=1'})
has_keys(pr, ['ImagesDeleted', 'SpaceReclaimed'], 'prune answer')
check(any(d.get('Deleted') == did for d in pr['ImagesDeleted'] or []), 'prune deleted the dangling image', pr)
raises(docker.errors.ImageNotFound, c.images.get, did)
c.images.get(IMAGE)

undo.run()
c.close()
done(__file__)
