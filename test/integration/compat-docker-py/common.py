"""Shared helpers for the docker-py compatibility scripts.

Each script talks to the daemon on $DOCKER_SOCK, names everything it makes with
$NAME_PREFIX, removes it all at the end (even on failure), and prints "ok <script>" when
every check passed. The same scripts run against the reference dockerd, which is how a
check is known to be Docker's behaviour and not our guess.
"""
import atexit
import os
import sys

import docker

SOCK = os.environ['DOCKER_SOCK']
PREFIX = os.environ.get('NAME_PREFIX', 'dpy')
IMAGE = os.environ.get('BUSYBOX', 'busybox')
# Set when the scripts run against the reference dockerd: skips the few checks where
# Docker 20.10 itself races (noted at each).
REFERENCE = os.environ.get('REFERENCE') == '1'


def client():
    return docker.DockerClient(base_url='unix://' + SOCK, timeout=60)


def api(version=None):
    return docker.APIClient(base_url='unix://' + SOCK, timeout=60, version=version)


def name(suffix):
    return f'{PREFIX}-{suffix}'


class Cleanup:
    """Undo list run at exit, last made first removed; failures there are reported, not raised."""

    def __init__(self):
        self.items = []
        atexit.register(self.run)

    def add(self, fn, *args, **kwargs):
        self.items.append((fn, args, kwargs))

    def run(self):
        while self.items:
            fn, args, kwargs = self.items.pop()
            try:
                fn(*args, **kwargs)
            except docker.errors.NotFound:
                pass
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                print(f'cleanup {fn.__name__}{args}: {e!r}', file=sys.stderr)


# These take a DockerClient or an APIClient.
def _low(c):
    return getattr(c, 'api', c)


def remove_container(c, ref):
    _low(c).remove_container(ref, force=True, v=True)


def remove_image(c, ref):
    _low(c).remove_image(ref, force=True)


def remove_network(c, ref):
    _low(c).remove_network(ref)


def remove_volume(c, ref):
    _low(c).remove_volume(ref, force=True)


def check(cond, what, got=None):
    if not cond:
        raise AssertionError(f'{what}' + ('' if got is None else f': got {got!r}'))


def eq(got, want, what):
    if got != want:
        raise AssertionError(f'{what}: want {want!r}, got {got!r}')


def has_keys(obj, keys, what):
    missing = [k for k in keys if k not in obj]
    if missing:
        raise AssertionError(f'{what}: missing {missing} in {sorted(obj)}')


def raises(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError(f'{getattr(fn, "__name__", fn)} did not raise {exc.__name__}')


def done(script):
    print(f'ok {os.path.basename(script)} (docker-py {docker.__version__})')
