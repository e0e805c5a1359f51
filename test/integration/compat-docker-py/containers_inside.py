"""exec_run, top, stats, diff, export, get_archive/put_archive, commit."""
import io
import socket
import tarfile

import docker
from common import IMAGE, REFERENCE, Cleanup, check, client, done, eq, has_keys, name, raises, remove_container, remove_image

c = client()
undo = Cleanup()
n = name('inside')
ct = c.containers.run(IMAGE, ['sh', '-c', 'echo ready; exec sleep 300'], name=n, detach=True, environment={'BASE': 'b'})
undo.add(remove_container, c, n)
for _ in ct.logs(stream=True, follow=True):
    break

# exec_run: the result is (exit_code, output).
r = ct.exec_run(['sh', '-c', 'echo out; echo err >&2; exit 4'])
eq(r.exit_code, 4, 'exec exit code')
# Both streams, in an order that depends on the scheduler (on Docker too).
eq(sorted(r.output.splitlines()), [b'err', b'out'], 'exec output (both streams)')
r = ct.exec_run('echo hi', stderr=False)
eq((r.exit_code, r.output), (0, b'hi\n'), 'exec string command')
r = ct.exec_run(['sh', '-c', 'echo out; echo err >&2'], demux=True)
eq(r.output, (b'out\n', b'err\n'), 'exec demux')
r = ct.exec_run(['id', '-u'], user='nobody')
eq(r.output, b'65534\n', 'exec user')
r = ct.exec_run(['pwd'], workdir='/tmp')
eq(r.output, b'/tmp\n', 'exec workdir')
r = ct.exec_run(['sh', '-c', 'echo $BASE $X'], environment={'X': 'y'})
eq(r.output, b'b y\n', 'exec environment dict')
r = ct.exec_run(['sh', '-c', 'echo $X'], environment=['X=list'])
eq(r.output, b'list\n', 'exec environment list')
r = ct.exec_run(['sh', '-c', 'test -t 1 && echo tty'], tty=True)
eq((r.exit_code, r.output), (0, b'tty\r\n'), 'exec tty')
r = ct.exec_run(['sh', '-c', 'echo a; echo b'], stream=True)
eq(r.exit_code, None, 'streamed exec has no exit code yet')
eq(b''.join(r.output), b'a\nb\n', 'exec stream')
r = ct.exec_run(['sh', '-c', 'echo a; echo b >&2'], stream=True, demux=True)
parts = list(r.output)
eq(b''.join(p[0] or b'' for p in parts), b'a\n', 'exec stream demux stdout')
eq(b''.join(p[1] or b'' for p in parts), b'b\n', 'exec stream demux stderr')
r = ct.exec_run(['sh', '-c', 'echo detached > /tmp/d'], detach=True)
# docker-py hands back the body's text ('' on Docker too) and the exit code inspected at
# once: None while it runs, 0 if it was quicker.
check(r.exit_code in (None, 0), 'exec detach exit code', r)
r = ct.exec_run(['sh', '-c', 'while ! test -s /tmp/d; do :; done; cat /tmp/d'])
eq(r.output, b'detached\n', 'the detached exec ran')
# Docker 20.10 fails here: it asks for all capabilities, the host lacks CAP_SYS_RESOURCE.
if not REFERENCE:
    r = ct.exec_run(['whoami'], privileged=True)
    eq(r.output, b'root\n', 'exec privileged')
r = ct.exec_run(['/no/such/thing'])
check(r.exit_code in (126, 127), 'exec of a missing binary', r)

# An exec fed through its socket: the input ends, cat ends, the exit code is there.
ex = c.api.exec_create(ct.id, ['cat'], stdin=True)
sk = c.api.exec_start(ex['Id'], socket=True)
sk._sock.sendall(b'piped\n')
sk._sock.shutdown(socket.SHUT_WR)
data = b''
while True:
    chunk = sk._sock.recv(4096)
    if not chunk:
        break
    data += chunk
sk.close()
eq(data, b'\x01\x00\x00\x00\x00\x00\x00\x06piped\n', 'exec stdin through the socket, framed output')
eq(c.api.exec_inspect(ex['Id'])['ExitCode'], 0, 'exec exit code after the socket closed')

# The low-level exec calls.
api = c.api
ex = api.exec_create(ct.id, ['sh', '-c', 'exit 2'])
has_keys(ex, ['Id'], 'exec_create')
eq(api.exec_start(ex['Id']), b'', 'exec_start output')
info = api.exec_inspect(ex['Id'])
has_keys(info, ['ID', 'Running', 'ExitCode', 'ProcessConfig', 'OpenStdin', 'OpenStderr', 'OpenStdout', 'ContainerID',
                'DetachKeys', 'CanRemove', 'Pid'], 'exec_inspect')
eq((info['Running'], info['ExitCode'], info['ContainerID']), (False, 2, ct.id), 'exec_inspect values')
eq(info['ProcessConfig']['entrypoint'], 'sh', 'exec ProcessConfig.entrypoint')
# Starting it again: attached, the error is inside the stream; detached, a 409.
api.exec_start(ex['Id'])
e = raises(docker.errors.APIError, api.exec_start, ex['Id'], detach=True)
eq(e.status_code, 409, 'starting a finished exec again')
raises(docker.errors.NotFound, api.exec_inspect, 'nosuchexec')

# top
t = ct.top()
has_keys(t, ['Titles', 'Processes'], 'top')
check('PID' in t['Titles'] and any('sleep' in ' '.join(p) for p in t['Processes']), 'top lists sleep', t)
t = ct.top(ps_args='-o pid,comm')
eq(t['Titles'], ['PID', 'COMMAND'], 'top ps_args titles')

# stats: one sample, then a stream of decoded samples.
s = ct.stats(stream=False)
has_keys(s, ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats',
             'memory_stats', 'name', 'id'], 'stats')
eq(s['id'], ct.id, 'stats id')
eq(s['name'], '/' + n, 'stats name')
has_keys(s['cpu_stats'], ['cpu_usage', 'system_cpu_usage', 'online_cpus', 'throttling_data'], 'cpu_stats')
has_keys(s['memory_stats'], ['usage', 'limit'], 'memory_stats')
stream = ct.stats(stream=True, decode=True)
first = next(stream)
second = next(stream)
stream.close()
check(isinstance(first, dict) and first['id'] == ct.id, 'stats stream decode', first)
eq(second['precpu_stats']['cpu_usage']['total_usage'], first['cpu_stats']['cpu_usage']['total_usage'],
   'precpu of a sample is the cpu of the one before')
raw = ct.stats(stream=True, decode=False)
check(isinstance(next(raw), bytes), 'stats stream raw bytes')
raw.close()

# diff
ct.exec_run(['sh', '-c', 'mkdir -p /newdir && echo x > /newdir/f && rm /bin/true'])
d = ct.diff()
kinds = {x['Path']: x['Kind'] for x in d}
eq(kinds.get('/newdir'), 1, 'diff added dir')
eq(kinds.get('/newdir/f'), 1, 'diff added file')
eq(kinds.get('/bin/true'), 2, 'diff deleted file')
eq(kinds.get('/bin'), 0, 'diff changed dir')

# put_archive / get_archive
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as tf:
    data = b'put content\n'
    ti = tarfile.TarInfo('put.txt')
    ti.size = len(data)
    ti.mode = 0o640
    tf.addfile(ti, io.BytesIO(data))
eq(ct.put_archive('/tmp', buf.getvalue()), True, 'put_archive')
eq(ct.exec_run(['cat', '/tmp/put.txt']).output, b'put content\n', 'put file is there')
raises(docker.errors.NotFound, ct.put_archive, '/no/such/dir', buf.getvalue())
bits, stat = ct.get_archive('/tmp/put.txt')
has_keys(stat, ['name', 'size', 'mode', 'mtime', 'linkTarget'], 'get_archive stat')
eq((stat['name'], stat['size']), ('put.txt', 12), 'get_archive stat values')
got = io.BytesIO(b''.join(bits))
with tarfile.open(fileobj=got) as tf:
    eq(tf.getnames(), ['put.txt'], 'get_archive members')
    eq(tf.extractfile('put.txt').read(), b'put content\n', 'get_archive content')
bits, stat = ct.get_archive('/newdir', chunk_size=1)
with tarfile.open(fileobj=io.BytesIO(b''.join(bits))) as tf:
    eq(sorted(tf.getnames()), ['newdir', 'newdir/f'], 'get_archive of a dir')
e = raises(docker.errors.NotFound, ct.get_archive, '/no/such/file')

# export: the whole filesystem as a tar.
exp = ct.export()
with tarfile.open(fileobj=io.BytesIO(b''.join(exp)), mode='r|') as tf:
    names = {m.name for m in tf}
check('bin/busybox' in names and 'tmp/put.txt' in names and 'bin/true' not in names, 'export members', len(names))

# commit: an image from the container, with changes and a config.
repo = name('committed')
img = ct.commit(repository=repo, tag='v1', message='dpy msg', author='dpy author',
                changes=['ENV COMMITTED=1', 'LABEL dpy.commit=yes'], conf={'Cmd': ['cat', '/tmp/put.txt']})
undo.add(remove_image, c, f'{repo}:v1')
check(isinstance(img, docker.models.images.Image), 'commit returns an Image')
eq(img.tags, [f'{repo}:v1'], 'commit tag')
eq(img.attrs['Comment'], 'dpy msg', 'commit message')
eq(img.attrs['Author'], 'dpy author', 'commit author')
eq(img.attrs['Config']['Cmd'], ['cat', '/tmp/put.txt'], 'commit conf Cmd')
check('COMMITTED=1' in img.attrs['Config']['Env'], 'commit changes ENV', img.attrs['Config']['Env'])
eq(img.labels.get('dpy.commit'), 'yes', 'commit changes LABEL')
eq(c.containers.run(img.id, remove=True), b'put content\n', 'run the committed image')

undo.run()
c.close()
done(__file__)
