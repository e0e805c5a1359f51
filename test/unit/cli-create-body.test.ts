import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../src/cli/flags.js';
import { buildCreateBody, containerFlags } from '../../src/cli/opts/container-opts.js';

// The POST /containers/create body for a given `run` command line, checked
// against what docker CLI 28 sends for the same flags (its parse() in
// cli/command/container/opts.go, serialised by encoding/json).

function build(argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
  const flags = parseFlags(containerFlags, argv, { interspersed: false });
  const [image, ...cmd] = flags.args;
  return buildCreateBody(flags, image, cmd, {
    env,
    cwd: '/home/u',
    readFile: (p) => {
      if (p in files) return Buffer.from(files[p]);
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
  });
}

// `docker run busybox`, byte for byte (field order is Go's struct order).
const DEFAULT_BODY =
  '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,' +
  '"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"busybox","Volumes":{},' +
  '"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},' +
  '"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default",' +
  '"PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"",' +
  '"VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],' +
  '"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"",' +
  '"Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"",' +
  '"ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,' +
  '"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],' +
  '"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"",' +
  '"CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,' +
  '"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,' +
  '"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},' +
  '"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"",' +
  '"DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,' +
  '"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}';

test('docker run busybox: the exact default body', () => {
  assert.equal(JSON.stringify(build(['busybox']).body), DEFAULT_BODY);
});

test('ports: -p, long form and --expose', () => {
  const { body } = build(['-p', '8080:80', '-p', '127.0.0.1::53/udp', '-p', 'published=9090,target=90', '--expose', '9000-9001', '-P', 'busybox']);
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '90/tcp': {}, '9000/tcp': {}, '9001/tcp': {} });
  assert.deepEqual(body.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '90/tcp': [{ HostIp: '', HostPort: '9090' }],
  });
  assert.equal(body.HostConfig.PublishAllPorts, true);
  assert.deepEqual(build(['-p', '8000-8001:80-81', 'busybox']).body.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8000' }],
    '81/tcp': [{ HostIp: '', HostPort: '8001' }],
  });
});

test('volumes: binds (host paths and named volumes) vs anonymous volumes', () => {
  const { body } = build(['-v', '/host:/ctr:ro', '-v', 'named:/data', '-v', '/anon', '-v', './rel:/x', 'busybox']);
  assert.deepEqual(body.HostConfig.Binds, ['/host:/ctr:ro', 'named:/data', '/home/u/rel:/x']);
  assert.deepEqual(body.Volumes, { '/anon': {} });
});

test('environment: -e, values from the environment, --env-file', () => {
  const { body } = build(['--env-file', '/e', '-e', 'A=1', '-e', 'B', '-e', 'C', 'busybox'], { B: '2', FROMFILE: 'f' }, {
    '/e': '# comment\n\nX=1\n  FROMFILE\nMISSING\n',
  });
  assert.deepEqual(body.Env, ['X=1', 'FROMFILE=f', 'A=1', 'B=2', 'C']);
});

test('labels and --label-file (bare keys in label files are dropped, as docker drops them)', () => {
  const { body } = build(['--label-file', '/l', '-l', 'a=b', '--label', 'c', 'busybox'], {}, { '/l': 'f=1\nbare\n' });
  assert.deepEqual(body.Labels, { f: '1', a: 'b', c: '' });
});

test('entrypoint, command, user, workdir, hostname', () => {
  let { body } = build(['--entrypoint', '/bin/sh', '-u', '1000:1000', '-w', '/work', '-h', 'myhost', 'busybox', '-c', 'echo hi']);
  assert.deepEqual(body.Entrypoint, ['/bin/sh']);
  assert.deepEqual(body.Cmd, ['-c', 'echo hi']);
  assert.equal(body.User, '1000:1000');
  assert.equal(body.WorkingDir, '/work');
  assert.equal(body.Hostname, 'myhost');
  ({ body } = build(['--entrypoint=', 'busybox']));
  assert.deepEqual(body.Entrypoint, ['']);
});

test('resources', () => {
  const { body } = build([
    '-m', '64m', '--memory-swap', '-1', '--memory-reservation', '32m', '--cpus', '1.5', '-c', '512',
    '--pids-limit', '100', '--cpuset-cpus', '0-1', '--cpu-period', '100000', '--cpu-quota', '50000',
    '--blkio-weight', '300', '--device-read-bps', '/dev/sda:1mb', '--ulimit', 'nofile=1024:2048', '--ulimit', 'core=0',
    '--memory-swappiness', '10', '--oom-kill-disable', '--shm-size', '1g', 'busybox',
  ]);
  const h = body.HostConfig;
  assert.equal(h.Memory, 64 * 1024 * 1024);
  assert.equal(h.MemorySwap, -1);
  assert.equal(h.MemoryReservation, 32 * 1024 * 1024);
  assert.equal(h.NanoCpus, 1_500_000_000);
  assert.equal(h.CpuShares, 512);
  assert.equal(h.PidsLimit, 100);
  assert.equal(h.CpusetCpus, '0-1');
  assert.equal(h.CpuPeriod, 100000);
  assert.equal(h.CpuQuota, 50000);
  assert.equal(h.BlkioWeight, 300);
  assert.deepEqual(h.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1024 * 1024 }]);
  assert.deepEqual(h.Ulimits, [
    { Name: 'core', Hard: 0, Soft: 0 },
    { Name: 'nofile', Hard: 2048, Soft: 1024 },
  ]);
  assert.equal(h.MemorySwappiness, 10);
  assert.equal(h.OomKillDisable, true);
  assert.equal(h.ShmSize, 1024 ** 3);
});

test('security and namespaces', () => {
  const { body } = build([
    '--privileged', '--read-only', '--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_ADMIN', '--cap-add', 'net_admin',
    '--cap-drop', 'all', '--security-opt', 'no-new-privileges', '--security-opt', 'systempaths=unconfined',
    '--pid', 'host', '--ipc', 'host', '--uts', 'host', '--userns', 'host', '--cgroupns', 'private', '--group-add', 'audio', 'busybox',
  ]);
  const h = body.HostConfig;
  assert.equal(h.Privileged, true);
  assert.equal(h.ReadonlyRootfs, true);
  assert.deepEqual(h.CapAdd, ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN']);
  assert.deepEqual(h.CapDrop, ['ALL']);
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
  assert.deepEqual(h.MaskedPaths, []);
  assert.deepEqual(h.ReadonlyPaths, []);
  assert.equal(h.PidMode, 'host');
  assert.equal(h.IpcMode, 'host');
  assert.equal(h.UTSMode, 'host');
  assert.equal(h.UsernsMode, 'host');
  assert.equal(h.CgroupnsMode, 'private');
  assert.deepEqual(h.GroupAdd, ['audio']);
});

test('restart policies, --rm, --init, --stop-timeout, --stop-signal', () => {
  let { body } = build(['--restart', 'on-failure:3', '--init', '--stop-timeout', '5', '--stop-signal', 'SIGINT', 'busybox']);
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(body.HostConfig.Init, true);
  assert.equal(body.StopTimeout, 5);
  assert.equal(body.StopSignal, 'SIGINT');
  ({ body } = build(['--rm', '--init=false', '--stop-timeout=0', 'busybox']));
  assert.equal(body.HostConfig.AutoRemove, true);
  assert.equal(body.HostConfig.Init, false);
  assert.equal(body.StopTimeout, 0);
  assert.equal(JSON.stringify(build(['--restart', 'no', '--rm', 'busybox']).body.HostConfig.RestartPolicy), '{"Name":"no","MaximumRetryCount":0}');
});

test('networks: user-defined network with alias, single network without options, --ip', () => {
  let { body } = build(['--network', 'mynet', '--network-alias', 'web', '--ip', '10.0.0.5', 'busybox']);
  assert.equal(body.HostConfig.NetworkMode, 'mynet');
  const ep = body.NetworkingConfig.EndpointsConfig.mynet;
  assert.deepEqual(ep.Aliases, ['web']);
  assert.deepEqual(ep.IPAMConfig, { IPv4Address: '10.0.0.5' });
  ({ body } = build(['--net', 'mynet', 'busybox']));
  assert.equal(body.HostConfig.NetworkMode, 'mynet');
  assert.deepEqual(body.NetworkingConfig.EndpointsConfig, {});
  ({ body } = build(['--network', 'name=n1,alias=a1', 'busybox']));
  assert.deepEqual(body.NetworkingConfig.EndpointsConfig.n1.Aliases, ['a1']);
  ({ body } = build(['--network', 'host', 'busybox']));
  assert.equal(body.HostConfig.NetworkMode, 'host');
  assert.deepEqual(body.NetworkingConfig.EndpointsConfig, {});
});

test('mounts, tmpfs, devices, logging, sysctls, healthcheck', () => {
  const { body, warnings } = build([
    '--mount', 'type=bind,src=/a,dst=/b,readonly', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=64m', '--tmpfs', '/run:size=64m',
    '--device', '/dev/fuse', '--device', '/dev/sda:/dev/xvda:r', '--log-driver', 'json-file', '--log-opt', 'max-size=10m',
    '--sysctl', 'net.ipv4.ip_forward=1', '--health-cmd', 'true', '--health-interval', '30s', '--health-retries', '3',
    '--dns', '127.0.0.1', '--add-host', 'db:10.0.0.2', 'busybox',
  ]);
  const h = body.HostConfig;
  assert.deepEqual(h.Mounts, [
    { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true },
    { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024 } },
  ]);
  assert.deepEqual(h.Tmpfs, { '/run': 'size=64m' });
  assert.deepEqual(h.Devices, [
    { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
    { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' },
  ]);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m' } });
  assert.deepEqual(h.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 30e9, Retries: 3 });
  assert.deepEqual(h.ExtraHosts, ['db:10.0.0.2']);
  assert.deepEqual(warnings, ['Localhost DNS (127.0.0.1) may fail in containers.']);
});

test('--attach and -i set the attach fields as docker does', () => {
  let { body } = build(['-a', 'STDERR', 'busybox']);
  assert.equal(body.AttachStdout, false);
  assert.equal(body.AttachStderr, true);
  ({ body } = build(['-i', 'busybox']));
  assert.equal(body.AttachStdin, true);
  assert.equal(body.OpenStdin, true);
  assert.equal(body.StdinOnce, true);
});

const errorCases: Array<[string[], string]> = [
  [['-p', '80:80/xyz', 'busybox'], 'invalid proto: xyz'],
  [['-p', 'a:80', 'busybox'], 'invalid hostPort: a'],
  [['-p', '80-82:90-91', 'busybox'], 'invalid ranges specified for container and host Ports: 90-91 and 80-82'],
  [['--expose', '80:80', 'busybox'], 'invalid port format for --expose: 80:80'],
  [['--restart', 'on-failure:x', 'busybox'], 'invalid restart policy format: maximum retry count must be an integer'],
  [['--restart', ':3', 'busybox'], 'invalid restart policy format: no policy provided before colon'],
  [['--pid', 'bad', 'busybox'], '--pid: invalid PID mode'],
  [['--uts', 'bad', 'busybox'], '--uts: invalid UTS mode'],
  [['--memory-swappiness', '200', 'busybox'], 'invalid value: 200. Valid memory swappiness range is 0-100'],
  [['--env-file', '/nonexistent', 'busybox'], 'open /nonexistent: no such file or directory'],
  [['--no-healthcheck', '--health-cmd', 'x', 'busybox'], '--no-healthcheck conflicts with --health-* options'],
  [['--mac-address', 'zz', 'busybox'], 'zz is not a valid mac address'],
  [['--security-opt', 'label', 'busybox'], 'Invalid --security-opt: "label"'],
  [['--log-driver', 'none', '--log-opt', 'a=b', 'busybox'], 'invalid logging opts for driver none'],
  [['--network', 'host', '--network-alias', 'x', 'busybox'], 'network-scoped aliases are only supported for user-defined networks'],
  [['--device', '/dev/sda:rel', 'busybox'], 'rel is not an absolute path'],
];

for (const [argv, msg] of errorCases) {
  test(`rejected: ${argv.join(' ')}`, () => {
    assert.throws(() => build(argv), (e: unknown) => e instanceof Error && e.message === msg);
  });
}

const flagErrors: Array<[string[], RegExp]> = [
  [['-m', '1x', 'busybox'], /^invalid argument "1x" for "-m, --memory" flag: invalid suffix: 'x'$/],
  [['--cpus', 'abc', 'busybox'], /^invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number$/],
  [['--cpus', '0.0000000001', 'busybox'], /value is too precise$/],
  [['-e', '=x', 'busybox'], /^invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x$/],
  [['--ulimit', 'nofile=10:5', 'busybox'], /ulimit soft limit must be less than or equal to hard limit: 10 > 5$/],
  [['--ulimit', 'bogus=1', 'busybox'], /invalid ulimit type: bogus$/],
  [['--sysctl', 'kernel.foo=1', 'busybox'], /sysctl 'kernel.foo=1' is not allowed$/],
  [['--label', ' =x', 'busybox'], /invalid label ' =x': empty name$/],
  [['--mount', 'type=bind,dst=/b,tmpfs-size=1', 'busybox'], /cannot mix 'tmpfs-\*' options with mount type 'bind'$/],
  [['--mount', 'src=/a', 'busybox'], /target is required$/],
  [['--dns', 'x.y', 'busybox'], /IP address is not correctly formatted: x.y$/],
  [['--health-interval', '5', 'busybox'], /time: missing unit in duration "5"$/],
  [['-a', 'foo', 'busybox'], /valid streams are STDIN, STDOUT and STDERR$/],
];

for (const [argv, re] of flagErrors) {
  test(`flag value rejected: ${argv.join(' ')}`, () => {
    assert.throws(() => build(argv), (e: unknown) => e instanceof Error && re.test(e.message));
  });
}
