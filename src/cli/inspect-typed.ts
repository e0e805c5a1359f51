import { asGoMap } from '../util/go-template.js';

// docker inspect runs a --format template on its typed struct first and falls back to the
// raw JSON (with missingkey=error) only when that fails. On the typed struct, a key missing
// from a Go map is "<no value>" (`{{.Config.Labels.maintainer}}`), a missing struct field
// is an error. These keys hold Go maps in the Engine API's container, image, network and
// volume structs; LogConfig's Config is one, the container's Config is a struct.
const MAP_KEYS = new Set([
  'Labels', 'ExposedPorts', 'Volumes', 'Ports', 'Networks', 'PortBindings', 'Sysctls', 'StorageOpt', 'Tmpfs',
  'Data', 'Annotations', 'DriverOpts', 'Options', 'Containers', 'Status',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A copy of the daemon's JSON whose Go maps are marked as such for the template engine.
// A null there is a nil map: empty to the template, still null to `json`.
export function typedView(value: unknown, key = '', parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => typedView(v));
  const isMap = MAP_KEYS.has(key) || (key === 'Config' && parentKey === 'LogConfig');
  if (value === null && isMap) return asGoMap({}, true);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = typedView(v, k, key);
  return isMap ? asGoMap(out) : out;
}
