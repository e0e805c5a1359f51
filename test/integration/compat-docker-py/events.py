"""events: decoded, filtered, bounded by since/until, and a live stream closed by the client."""
import time

from common import IMAGE, Cleanup, check, client, done, eq, has_keys, name, remove_container, remove_volume

c = client()
undo = Cleanup()

t0 = int(time.time()) - 1
# No name is a prefix of another: Docker matches names by prefix.
n = name('ctr-ev')
ct = c.containers.run(IMAGE, ['sh', '-c', 'exit 3'], name=n, detach=True, labels={'dpy.ev': 'yes'})
undo.add(remove_container, c, n)
ct.wait()
ct.remove()
vn = name('vol-ev')
c.volumes.create(vn).remove()
nn = name('net-ev')
c.networks.create(nn).remove()
t1 = int(time.time()) + 1

# A bounded query ends by itself.
evs = list(c.events(since=t0, until=t1, decode=True, filters={'container': n}))
actions = [e['Action'] for e in evs]
eq([a for a in actions if a in ('create', 'start', 'die', 'destroy')], ['create', 'start', 'die', 'destroy'], 'container actions')
first = evs[0]
has_keys(first, ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano', 'status', 'id', 'from'], 'container event')
eq((first['Type'], first['scope'], first['status'], first['id'], first['from']), ('container', 'local', 'create', ct.id, IMAGE),
   'container event fields')
eq(first['Actor']['ID'], ct.id, 'Actor.ID')
attrs = first['Actor']['Attributes']
eq((attrs['name'], attrs['image'], attrs['dpy.ev']), (n, IMAGE, 'yes'), 'Actor.Attributes')
check(isinstance(first['time'], int) and isinstance(first['timeNano'], int) and first['timeNano'] // 10**9 == first['time'],
      'time and timeNano', (first['time'], first['timeNano']))
die = next(e for e in evs if e['Action'] == 'die')
eq(die['Actor']['Attributes']['exitCode'], '3', 'die exitCode')

# Filters: by event, by label, by type, several values of one key.
evs = list(c.events(since=t0, until=t1, decode=True, filters={'event': ['start', 'die'], 'label': 'dpy.ev=yes'}))
eq([e['Action'] for e in evs], ['start', 'die'], 'event + label filter')
evs = list(c.events(since=t0, until=t1, decode=True, filters={'type': 'volume', 'volume': vn}))
eq([e['Action'] for e in evs], ['create', 'destroy'], 'volume events')
has_keys(evs[0], ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano'], 'volume event')
eq(evs[0]['Actor']['ID'], vn, 'volume Actor.ID')
evs = list(c.events(since=t0, until=t1, decode=True, filters={'type': 'network', 'network': nn}))
eq([e['Action'] for e in evs], ['create', 'destroy'], 'network events')
eq(evs[0]['Actor']['Attributes']['name'], nn, 'network event name')
eq(evs[0]['Actor']['Attributes']['type'], 'bridge', 'network event type')

# Not decoded: bytes with one JSON object each.
raw = list(c.events(since=t0, until=t1, filters={'container': n, 'event': 'destroy'}))
eq(len(raw), 1, 'one raw event')
check(isinstance(raw[0], bytes) and raw[0].strip().startswith(b'{'), 'raw event bytes', raw[0])

# Image events: tag and untag.
repo = name('img-ev')
c.images.get(IMAGE).tag(repo, 'x')
c.images.remove(f'{repo}:x')
t2 = int(time.time()) + 1
evs = list(c.events(since=t0, until=t2, decode=True, filters={'type': 'image', 'image': f'{repo}:x'}))
eq([e['Action'] for e in evs], ['tag'], 'image tag event, by the new name')
eq((evs[0]['id'], evs[0]['status']), (c.images.get(IMAGE).id, 'tag'), 'image event legacy fields')
# The untag event names the image by its id only (as Docker does).
evs = list(c.events(since=t0, until=t2, decode=True, filters={'type': 'image', 'image': c.images.get(IMAGE).id}))
check('untag' in [e['Action'] for e in evs], 'untag event by image id', evs)

# A live stream: its history replays, the client closes it, the daemon lets it go.
before = c.info()['NEventsListener']
live = c.events(since=t0, decode=True, filters={'container': n})
got = [next(live)['Action'] for _ in range(2)]
eq(got, ['create', 'start'], 'live stream replays history first')
eq(c.info()['NEventsListener'], before + 1, 'the listener is counted')
live.close()
# The daemon sees the connection go a moment later: wait for that, with a deadline.
deadline = time.monotonic() + 30
while c.info()['NEventsListener'] != before:
    check(time.monotonic() < deadline, 'the closed listener is let go', c.info()['NEventsListener'])
    time.sleep(0.05)  # poll interval, not a guess at how long it takes
# A new live event after the close reaches a second stream only.
live2 = c.events(since=int(time.time()) - 1, decode=True, filters={'type': 'volume', 'volume': name('vol-live')})
c.volumes.create(name('vol-live'))
undo.add(remove_volume, c, name('vol-live'))
eq(next(live2)['Action'], 'create', 'live event')
live2.close()

# The low-level call with datetimes.
import datetime  # noqa: E402
evs = list(c.api.events(since=datetime.datetime.utcfromtimestamp(t0), until=datetime.datetime.utcfromtimestamp(t1),
                        decode=True, filters={'container': n, 'event': 'die'}))
eq(len(evs), 1, 'events with datetimes')

undo.run()
c.close()
done(__file__)
