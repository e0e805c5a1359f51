"""containers.run in its forms, logs, wait, attach_socket."""
import datetime

import docker
from common import IMAGE, SOCK, Cleanup, check, client, done, eq, name, raises, remove_container

c = client()
undo = Cleanup()

# Not detached: the output of stdout, and the container removed afterwards.
eq(c.containers.run(IMAGE, ['sh', '-c', 'echo out; echo err >&2'], name=name('rm1'), remove=True), b'out\n',
   'run output (stdout only)')
eq(c.containers.run(IMAGE, ['sh', '-c', 'echo out; echo err >&2'], stderr=True, stdout=False, remove=True),
   b'err\n', 'run stderr only')
raises(docker.errors.NotFound, c.containers.get, name('rm1'))

# stream=True: a generator of the output as it comes.
chunks = list(c.containers.run(IMAGE, ['sh', '-c', 'for i in 1 2 3; do echo line$i; done'], stream=True, remove=True))
eq(b''.join(chunks), b'line1\nline2\nline3\n', 'run stream output')

# With a TTY both streams come as one, with the terminal's line endings.
eq(c.containers.run(IMAGE, ['sh', '-c', 'echo a; echo b >&2'], tty=True, remove=True), b'a\r\nb\r\n', 'run tty output')
eq(b''.join(c.containers.run(IMAGE, ['sh', '-c', 'echo a; echo b'], tty=True, stream=True, remove=True)), b'a\r\nb\r\n',
   'run tty stream')

# A non-zero exit raises ContainerError with the exit code and the stderr.
n = name('fail')
err = raises(docker.errors.ContainerError, c.containers.run, IMAGE, ['sh', '-c', 'echo bad >&2; exit 3'], name=n)
undo.add(remove_container, c, n)
eq(err.exit_status, 3, 'ContainerError exit_status')
eq(err.stderr, b'bad\n', 'ContainerError stderr')
eq(err.container.name, n, 'ContainerError container')
c.containers.get(n).remove()
# remove=True takes the failed container along; the error still has its stderr.
err = raises(docker.errors.ContainerError, c.containers.run, IMAGE, ['sh', '-c', 'echo gone >&2; exit 5'],
             name=name('failrm'), remove=True)
eq((err.exit_status, err.stderr), (5, b'gone\n'), 'ContainerError with remove=True')
raises(docker.errors.NotFound, c.containers.get, name('failrm'))

# An unknown image is ImageNotFound (docker-py then tries a pull, which fails too).
raises(docker.errors.ImageNotFound, c.containers.create, 'dpy-no-such-image:latest')
# An unknown command fails at start with a 400/500 APIError (Docker: 400 "executable file not found").
n = name('nocmd')
e = raises(docker.errors.APIError, c.containers.run, IMAGE, ['/no/such/binary'], name=n, detach=True)
undo.add(remove_container, c, n)
check('no such file or directory' in str(e) or 'not found' in str(e), 'start error message', str(e))
eq(c.containers.get(n).status, 'created', 'failed start leaves the container created')
c.containers.get(n).remove()

# Detached: a Container object with its attributes.
n = name('detached')
ct = c.containers.run(IMAGE, ['sh', '-c', 'echo started; exec sleep 300'], name=n, detach=True,
                      labels={'dpy': 'run'}, environment={'FOO': 'bar'}, working_dir='/tmp', hostname='dpyhost')
undo.add(remove_container, c, n)
check(isinstance(ct, docker.models.containers.Container), 'run detach returns a Container')
eq(ct.name, n, 'name')
ct.reload()
eq(ct.status, 'running', 'status')
eq(ct.labels, {'dpy': 'run'}, 'labels')
check('FOO=bar' in ct.attrs['Config']['Env'], 'env', ct.attrs['Config']['Env'])
eq(ct.attrs['Config']['WorkingDir'], '/tmp', 'working dir')
eq(ct.attrs['Config']['Hostname'], 'dpyhost', 'hostname')
eq(ct.image.id, c.images.get(IMAGE).id, 'container image')
eq(ct.attrs['State']['Running'], True, 'State.Running')
check(ct.attrs['State']['Pid'] > 0, 'State.Pid', ct.attrs['State']['Pid'])
eq(ct.attrs['HostConfig']['LogConfig']['Type'], 'json-file', 'log driver')

# logs: plain, timestamps, tail, since/until, follow as a stream.
for _ in ct.logs(stream=True, follow=True):
    break  # the first line is there once this returns
eq(ct.logs(), b'started\n', 'logs')
ts = ct.logs(timestamps=True).decode()
stamp = ts.split(' ', 1)[0]
check(stamp.endswith('Z') and 'T' in stamp and ts.endswith(' started\n'), 'logs timestamps', ts)
eq(ct.logs(tail=0), b'', 'logs tail=0')
eq(ct.logs(tail=1), b'started\n', 'logs tail=1')
future = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
eq(ct.logs(since=future), b'', 'logs since the future')
eq(ct.logs(until=datetime.datetime(2000, 1, 1)), b'', 'logs until the past')
eq(ct.logs(since=1), b'started\n', 'logs since an int timestamp')
eq(ct.logs(stdout=False, stderr=True), b'', 'logs stderr only')

# attach_socket: a raw socket on the container's streams (multiplexed, no tty).
n2 = name('attach')
at = c.containers.create(IMAGE, ['sh', '-c', 'read line; echo got:$line; echo e >&2'], name=n2, stdin_open=True)
undo.add(remove_container, c, n2)
sock = at.attach_socket(params={'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1})
raw = sock._sock if hasattr(sock, '_sock') else sock
at.start()
raw.sendall(b'hello\n')
buf = b''
frames = []
while True:
    data = raw.recv(4096)
    if not data:
        break
    buf += data
    while len(buf) >= 8:
        size = int.from_bytes(buf[4:8], 'big')
        if len(buf) < 8 + size:
            break
        frames.append((buf[0], buf[8:8 + size]))
        buf = buf[8 + size:]
sock.close()
out = b''.join(d for s, d in frames if s == 1)
errb = b''.join(d for s, d in frames if s == 2)
eq(out, b'got:hello\n', 'attach stdout frames')
eq(errb, b'e\n', 'attach stderr frames')
eq(at.wait(), {'StatusCode': 0, 'Error': None}, 'wait after attach')

# attach (the model's): logs=True replays the output of an exited container. docker-py
# reads the body from the raw socket under http.client's buffered reader, so bytes that
# arrive together with the headers are lost: nothing replayed is the client's race (on
# Docker too), a part of it never is.
got = at.attach(stdout=True, stderr=False, logs=True, stream=False)
check(got in (b'', b'got:hello\n'), 'attach logs=True', got)
# The same request on a plain socket, which keeps every byte: the replay itself, framed.
import socket  # noqa: E402
raw = socket.socket(socket.AF_UNIX)
raw.connect(SOCK)
raw.sendall(f'POST /containers/{at.id}/attach?logs=1&stdout=1&stderr=0&stream=0 HTTP/1.1\r\nHost: docker\r\n'
            'Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n'.encode())
reply = b''
while True:
    data = raw.recv(4096)
    if not data:
        break
    reply += data
raw.close()
eq(reply.split(b'\r\n\r\n', 1)[1], b'\x01\x00\x00\x00\x00\x00\x00\x0agot:hello\n', 'attach logs=1 replay on the wire')

# attach as a stream, demultiplexed, with the output so far replayed first.
n6 = name('demux')
dm = c.containers.create(IMAGE, ['sh', '-c', 'read x; echo out:$x; echo err:$x >&2'], name=n6, stdin_open=True)
undo.add(remove_container, c, n6)
sin = c.api.attach_socket(dm.id, params={'stdin': 1, 'stream': 1})
dm.start()
# The attach is made (its answer read) before the input that lets the container finish.
stream = c.api.attach(dm.id, stream=True, logs=True, demux=True)
sin._sock.sendall(b'hi\n')
frames = list(stream)
sin.close()
eq(b''.join(f[0] or b'' for f in frames), b'out:hi\n', 'attach demux stdout')
eq(b''.join(f[1] or b'' for f in frames), b'err:hi\n', 'attach demux stderr')
eq(dm.wait()['StatusCode'], 0, 'demux container exit')

# logs(follow=True) goes on until the container exits, then ends.
n7 = name('follow')
fo = c.containers.run(IMAGE, ['sh', '-c', 'echo one; read x; echo two'], name=n7, stdin_open=True, detach=True)
undo.add(remove_container, c, n7)
sin = c.api.attach_socket(fo.id, params={'stdin': 1, 'stream': 1})
lines = fo.logs(stream=True, follow=True)
got = [next(lines)]
sin._sock.sendall(b'go\n')
got += list(lines)
sin.close()
eq(b''.join(got), b'one\ntwo\n', 'logs follow until exit')

# A TTY container's logs are raw (no multiplexing), stdout only.
n8 = name('ttylogs')
tl = c.containers.run(IMAGE, ['sh', '-c', 'echo x; echo y >&2'], name=n8, tty=True, detach=True)
undo.add(remove_container, c, n8)
tl.wait()
eq(tl.logs(), b'x\r\ny\r\n', 'tty logs')
eq(tl.logs(stdout=False), b'', 'tty logs on stderr')

# The ports argument of run in its forms.
n9 = name('ports')
pc = c.containers.run(IMAGE, ['sleep', '300'], name=n9, detach=True,
                      ports={'80/tcp': None, '81/tcp': ('127.0.0.1', None), 82: [None, None]})
undo.add(remove_container, c, n9)
pc.reload()
eq(pc.attrs['HostConfig']['PortBindings'], {
    '80/tcp': [{'HostIp': '', 'HostPort': ''}], '81/tcp': [{'HostIp': '127.0.0.1', 'HostPort': ''}],
    '82/tcp': [{'HostIp': '', 'HostPort': ''}, {'HostIp': '', 'HostPort': ''}]}, 'run ports')
published = pc.attrs['NetworkSettings']['Ports']
check(all(p['HostPort'].isdigit() for k in ('80/tcp', '81/tcp', '82/tcp') for p in published[k]), 'ports published', published)
eq(published['81/tcp'][0]['HostIp'], '127.0.0.1', 'loopback binding')
v4 = [p['HostPort'] for p in published['82/tcp'] if p['HostIp'] == '0.0.0.0']
eq(len(set(v4)), 2, 'a port asked twice gets two host ports')
pc.remove(force=True)

# wait with condition and timeout.
n3 = name('wait')
w = c.containers.create(IMAGE, ['sh', '-c', 'exit 7'], name=n3)
undo.add(remove_container, c, n3)
w.start()
eq(w.wait(condition='not-running')['StatusCode'], 7, 'wait not-running')
w.remove()
# condition=removed returns once the container is gone.
n4 = name('autorm')
r = c.containers.run(IMAGE, ['true'], name=n4, detach=True, remove=True)
eq(r.wait(condition='removed')['StatusCode'], 0, 'wait removed')
raises(docker.errors.NotFound, c.containers.get, n4)

# A wait that times out raises a requests ConnectionError/ReadTimeout.
import requests  # noqa: E402
raises((requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError), ct.wait, timeout=0.5)

# sleep as PID 1 ignores SIGTERM: stop kills it after the timeout.
ct.stop(timeout=1)
eq(ct.wait()['StatusCode'], 137, 'exit code after stop')
ct.reload()
eq(ct.status, 'exited', 'status after stop')
eq(ct.attrs['State']['ExitCode'], 137, 'State.ExitCode')
# A created container is not running: wait returns at once.
n5 = name('created')
cr = c.containers.create(IMAGE, ['true'], name=n5)
undo.add(remove_container, c, n5)
eq(cr.wait(condition='not-running')['StatusCode'], 0, 'wait on a created container')
undo.run()
c.close()
done(__file__)
