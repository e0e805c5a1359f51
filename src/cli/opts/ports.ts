import { isIP } from 'node:net';
import { parseGoUint } from '../flags.js';

// go-connections/nat's port specs ("-p [ip:][hostPort:]containerPort[/proto]")
// and docker's long form ("published=8080,target=80,protocol=udp").

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

export interface PortSpecs {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, PortBinding[]>;
}

export function splitProtoPort(raw: string): [proto: string, port: string] {
  const i = raw.indexOf('/');
  const port = i < 0 ? raw : raw.slice(0, i);
  let proto = i < 0 ? '' : raw.slice(i + 1);
  if (port === '') return ['', ''];
  if (proto === '') proto = 'tcp';
  return [proto, port];
}

export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const n = parseGoUint(ports, 16);
    return [n, n];
  }
  const parts = ports.split('-');
  const start = parseGoUint(parts[0], 16);
  const end = parseGoUint(parts[1], 16);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  switch (parts.length) {
    case 1:
      return ['', '', parts[0]];
    case 2:
      return ['', parts[0], parts[1]];
    case 3:
      return [parts[0], parts[1], parts[2]];
    default: {
      const n = parts.length;
      return [parts.slice(0, n - 2).join(':'), parts[n - 2], parts[n - 1]];
    }
  }
}

export interface PortMapping {
  port: string;
  binding: PortBinding;
}

export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerPort] = splitParts(raw);
  const [protoRaw, cport] = splitProtoPort(containerPort);
  const proto = protoRaw.toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`invalid proto: ${proto}`);
  containerPort = cport;
  if (ip !== '' && ip[0] === '[') {
    const m = /^\[([^\]]*)\]$/.exec(ip);
    if (!m) throw new Error(`invalid IP address ${ip}: address ${ip}:: missing port in address`);
    ip = m[1];
  }
  if (ip !== '' && isIP(ip) === 0) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new Error(`invalid containerPort: ${containerPort}`);
  }
  let hStart = 0;
  let hEnd = 0;
  if (hostPort !== '') {
    try {
      [hStart, hEnd] = parsePortRange(hostPort);
    } catch {
      throw new Error(`invalid hostPort: ${hostPort}`);
    }
    if (end - start !== hEnd - hStart && end !== start) {
      throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
  }
  const count = end - start + 1;
  const out: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    let hPort = '';
    if (hostPort !== '') {
      hPort = String(hStart + i);
      if (count === 1 && hStart !== hEnd) hPort += `-${hEnd}`;
    }
    out.push({ port: `${start + i}/${proto}`, binding: { HostIp: ip, HostPort: hPort } });
  }
  return out;
}

export function parsePortSpecs(specs: readonly string[]): PortSpecs {
  const exposed: PortSpecs['exposed'] = {};
  const bindings: PortSpecs['bindings'] = {};
  for (const spec of specs) {
    for (const pm of parsePortSpec(spec)) {
      exposed[pm.port] = {};
      (bindings[pm.port] ??= []).push(pm.binding);
    }
  }
  return { exposed, bindings };
}

// docker's convertToStandardNotation for the long "-p published=..,target=.." form.
export function convertToStandardNotation(ports: readonly string[]): string[] {
  return ports.map((publish) => {
    if (!publish.includes('=')) return publish;
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of publish.split(',')) {
      const i = param.indexOf('=');
      if (i <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
      params[param.slice(0, i)] = param.slice(i + 1);
    }
    return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
  });
}

// --expose accepts "port[/proto]" or "start-end[/proto]".
export function exposePorts(specs: readonly string[], exposed: PortSpecs['exposed']): void {
  for (const e of specs) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let p = start; p <= end; p++) {
      const key = `${p}/${proto}`;
      if (!(key in exposed)) exposed[key] = {};
    }
  }
}
