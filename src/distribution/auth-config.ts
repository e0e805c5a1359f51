// Registry credentials as the Engine API carries them: moby's registry.AuthConfig, sent
// by clients in the X-Registry-Auth header as base64url-encoded JSON (and in the body of
// POST /auth as plain JSON).

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string; // base64("user:password"), as config.json stores it
  email?: string;
  serveraddress?: string;
  identitytoken?: string; // an OAuth refresh token
  registrytoken?: string; // a bearer token sent as is
}

// The key Docker Hub credentials are stored under, in config.json and in AuthConfig.
export const INDEX_SERVER = 'https://index.docker.io/v1/';
export const INDEX_NAME = 'docker.io';

// Go's json.Marshal field order with omitempty, so the header is byte for byte docker's.
const FIELDS: Array<keyof AuthConfig> = ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'];

export function encodeAuthConfig(a: AuthConfig): string {
  const out: Record<string, string> = {};
  for (const k of FIELDS) if (a[k]) out[k] = a[k] as string;
  return Buffer.from(JSON.stringify(out)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

// Lenient as dockerd 20.10 is for pulls: an empty or undecodable header means anonymous.
// Standard and URL-safe base64, padded or not, are all accepted.
export function decodeAuthConfig(header: string | undefined | null): AuthConfig {
  if (!header) return {};
  try {
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    return fromJson(JSON.parse(json));
  } catch {
    return {};
  }
}

export function fromJson(v: unknown): AuthConfig {
  const out: AuthConfig = {};
  if (!v || typeof v !== 'object') return out;
  // Go's decoder matches keys case-insensitively ("Username" from old clients).
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    const k = FIELDS.find((f) => f === key.toLowerCase());
    if (k && typeof val === 'string') out[k] = val;
  }
  return out;
}

// Username and password, from the fields or from "auth" when only that is set.
export function basicCredentials(a: AuthConfig): { username: string; password: string } | null {
  let { username = '', password = '' } = a;
  if ((!username || !password) && a.auth) {
    const decoded = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
  }
  return username && password ? { username, password } : null;
}

// registry.ConvertToHostname: "https://host:5000/v1/" → "host:5000".
export function convertToHostname(maybeUrl: string): string {
  let s = maybeUrl;
  const m = /^(https?):\/\/(.*)$/.exec(s);
  if (m) s = m[2]!;
  const slash = s.indexOf('/');
  return slash >= 0 ? s.slice(0, slash) : s;
}

// The config.json key for a registry domain: Docker Hub's is its v1 index URL.
export function authConfigKey(domain: string): string {
  return domain === INDEX_NAME || domain === 'index.docker.io' ? INDEX_SERVER : domain;
}
