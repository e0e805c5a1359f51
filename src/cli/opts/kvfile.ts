import { readFileSync } from 'node:fs';

// Files the CLI reads on the user's behalf (--env-file, --label-file, seccomp
// profiles), with Go's error texts ("open x: no such file or directory").

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

export type ReadFile = (path: string) => Buffer;

export const defaultReadFile: ReadFile = (p) => readFileSync(p);

export function goFileError(op: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const text = ERRNO_TEXT[code] ?? (err as Error).message;
  return new Error(`${op} ${path}: ${text}`);
}

export function readFileGo(path: string, readFile: ReadFile): Buffer {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // os.Open succeeds on a directory; the read then fails with EISDIR.
    throw goFileError(code === 'EISDIR' ? 'read' : 'open', path, err);
  }
}

// pkg/kvfile.Parse: KEY=value lines; a bare KEY takes its value from `lookup`
// (the environment for --env-file) or is dropped when there is no lookup.
export function parseKeyValueFile(
  filename: string,
  readFile: ReadFile,
  lookup?: (key: string) => string | undefined,
): string[] {
  const data = readFileGo(filename, readFile);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new Error(`invalid env file (${filename}): invalid utf8 bytes`);
  }
  const lines: string[] = [];
  const raw = text.split(/\r?\n/);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  for (let n = 0; n < raw.length; n++) {
    let lineText = raw[n];
    if (n === 0) lineText = lineText.replace(/^\uFEFF/, '');
    const line = lineText.replace(/^\s+/u, '');
    if (line.length === 0 || line[0] === '#') continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key.length === 0) throw new Error(`invalid env file (${filename}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`invalid env file (${filename}): variable '${key}' contains whitespaces`);
    if (eq >= 0) {
      lines.push(line);
      continue;
    }
    if (lookup) {
      const v = lookup(line);
      if (v !== undefined) lines.push(`${key}=${v}`);
    }
  }
  return lines;
}
