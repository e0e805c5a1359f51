import { HtpasswdFile } from '../htpasswd.js';

// distribution's htpasswd access controller: HTTP Basic credentials checked against
// an htpasswd file; anything else gets 401 with a Basic challenge for the realm.

export interface Credentials {
  user: string;
  password: string;
}

export function parseBasicAuth(header: string | undefined): Credentials | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export class BasicAuth {
  private readonly file: HtpasswdFile;

  constructor(
    htpasswdPath: string,
    readonly realm: string,
  ) {
    this.file = new HtpasswdFile(htpasswdPath);
  }

  // Fails now, not on the first request, when the file is missing or unreadable.
  async init(): Promise<void> {
    await this.file.load();
  }

  challenge(): string {
    return `Basic realm=${JSON.stringify(this.realm)}`;
  }

  // The user the request authenticates as, or null.
  async authenticate(authorization: string | undefined): Promise<string | null> {
    const creds = parseBasicAuth(authorization);
    if (!creds) return null;
    return (await this.file.check(creds.user, creds.password)) ? creds.user : null;
  }
}
