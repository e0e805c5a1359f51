import type { ContainerConfig, ImageConfig } from './types.js';
import { sortedMap } from '../util/sorted-map.js';

// Docker marshals container.Config from a Go struct: every field without `omitempty` is
// present (zero values and nulls included) in declaration order. Clients compare and
// hash these objects, so berth writes and returns the same shape.
export function dockerContainerConfig(c: ContainerConfig = {}): ContainerConfig {
  const out: ContainerConfig = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  out.Tty = c.Tty ?? false;
  out.OpenStdin = c.OpenStdin ?? false;
  out.StdinOnce = c.StdinOnce ?? false;
  out.Env = c.Env ?? null;
  out.Cmd = c.Cmd ?? null;
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  out.Image = c.Image ?? '';
  out.Volumes = c.Volumes ?? null;
  out.WorkingDir = c.WorkingDir ?? '';
  out.Entrypoint = c.Entrypoint ?? null;
  if (c.NetworkDisabled) out.NetworkDisabled = true;
  if (c.MacAddress) out.MacAddress = c.MacAddress;
  out.OnBuild = c.OnBuild ?? null;
  out.Labels = sortedMap(c.Labels);
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell && c.Shell.length) out.Shell = c.Shell;
  return out;
}

// dockerd writes image configs through a map, so the top-level keys come out sorted;
// berth does the same, which also makes the bytes (and the image ID) reproducible.
export function imageConfigBytes(config: ImageConfig): Buffer {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(config).sort()) {
    const v = (config as unknown as Record<string, unknown>)[key];
    if (v !== undefined) sorted[key] = v;
  }
  return Buffer.from(JSON.stringify(sorted));
}
