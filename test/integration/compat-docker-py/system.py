"""ping, version, info, df: the calls every docker-py program starts with."""
import docker
from common import IMAGE, api, check, client, done, eq, has_keys, raises

c = client()
check(c.ping() is True, 'ping')
low = api()
eq(low.ping(), True, 'APIClient.ping')

v = c.version()
has_keys(v, ['Version', 'ApiVersion', 'MinAPIVersion', 'Os', 'Arch', 'KernelVersion', 'GoVersion', 'GitCommit', 'Components'], 'version')
eq(v['Os'], 'linux', 'version Os')
check(isinstance(v['Components'], list) and v['Components'][0]['Name'] == 'Engine', 'version Components', v['Components'])
# docker-py negotiated the version it talks from ApiVersion.
eq(c.api.api_version, v['ApiVersion'], 'negotiated api version')
# An old pinned version still works: compose 1.29 pins what its file asks for.
old = api(version='1.25')
eq(old.version(api_version=True)['Os'], 'linux', 'version via /v1.25')

info = c.info()
has_keys(info, ['ID', 'Containers', 'ContainersRunning', 'ContainersPaused', 'ContainersStopped', 'Images', 'Driver',
                'DockerRootDir', 'NCPU', 'MemTotal', 'OperatingSystem', 'OSType', 'Architecture', 'ServerVersion',
                'KernelVersion', 'Name', 'Labels', 'Plugins', 'RegistryConfig', 'Swarm', 'Runtimes', 'DefaultRuntime',
                'LoggingDriver', 'CgroupDriver', 'SecurityOptions', 'IndexServerAddress'], 'info')
eq(info['Swarm']['LocalNodeState'], 'inactive', 'info Swarm state')
check(isinstance(info['NCPU'], int) and info['NCPU'] > 0, 'info NCPU', info['NCPU'])
check(info['Images'] >= 1, 'info Images counts busybox', info['Images'])

df = c.df()
has_keys(df, ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache'], 'df')
img = c.images.get(IMAGE)
mine = [i for i in df['Images'] if i['Id'] == img.id]
check(len(mine) == 1, 'df lists busybox', [i['Id'] for i in df['Images']])
has_keys(mine[0], ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'SharedSize',
                   'Labels', 'Containers'], 'df image')
check(isinstance(df['LayersSize'], int) and df['LayersSize'] > 0, 'df LayersSize', df['LayersSize'])

# Not a swarm: docker-py's client.swarm swallows the 503 Docker answers (a 404 would raise),
# the swarm objects are 503s, and there are no plugins.
eq(c.swarm.attrs, {}, 'swarm attrs outside a swarm')
for objects in (c.nodes, c.services, c.secrets, c.configs):
    e = raises(docker.errors.APIError, objects.list)
    eq(e.status_code, 503, f'{type(objects).__name__}.list outside a swarm')
    check('not a swarm manager' in e.explanation, 'swarm message', e.explanation)
eq(c.plugins.list(), [], 'plugins')
raises(docker.errors.NotFound, c.plugins.get, 'dpy-no-such-plugin')

# The low-level client's plain calls.
eq(low.info()['ID'], info['ID'], 'APIClient.info')
eq(low.version()['ApiVersion'], v['ApiVersion'], 'APIClient.version')
c.close()
low.close()
done(__file__)
