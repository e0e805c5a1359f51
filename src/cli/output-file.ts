import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { lstat, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from './command.js';
import { goFileError } from './opts/kvfile.js';

// `export -o` / `save -o`: docker writes through an atomic writer (temp file in the
// same directory, renamed into place), so a failed export leaves no half file.
export async function streamToOutput(ctx: CliContext, output: string, what: string, open: () => Promise<Readable>): Promise<void> {
  if (output === '') {
    const body = await open();
    const out = ctx.io.stdout;
    // A pipe's writes turn asynchronous once it is full (`berth save x | docker load`):
    // wait for drains, and for the last write, or exiting right after cuts the tar short.
    for await (const chunk of body) if (!out.write(chunk as Buffer)) await once(out, 'drain');
    await new Promise<void>((resolve, reject) => out.write('', (err) => (err ? reject(err) : resolve())));
    return;
  }
  const invalidDest = await validateDestination(output);
  if (invalidDest) throw new Error(`${what}: ${invalidDest}`);
  const target = path.resolve(output);
  // A name unique to this process; 'wx' below refuses to clobber anything.
  const tmp = path.join(path.dirname(target), `.tmp-${path.basename(target)}-${process.pid}-${Date.now()}`);
  let file;
  try {
    file = createWriteStream(tmp, { mode: 0o600, flags: 'wx' });
    await new Promise<void>((resolve, reject) => {
      file!.once('open', () => resolve());
      file!.once('error', reject);
    });
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  try {
    const body = await open();
    await pipeline(body, file);
    await rename(tmp, target);
  } catch (err) {
    file.destroy();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

// moby/sys/atomicwriter's validateDestination, which docker 28 runs before asking the
// daemon: the directory must exist, and the file be absent or a regular file.
async function validateDestination(file: string): Promise<string | null> {
  const dir = path.dirname(file);
  if (dir !== '' && dir !== '.' && dir !== '..') {
    try {
      if (!(await stat(dir)).isDirectory()) return `invalid output path: stat ${dir}: not a directory`;
    } catch (err) {
      return `invalid output path: ${goFileError('stat', dir, err).message}`;
    }
  }
  let st;
  try {
    st = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `failed to stat output path: ${goFileError('lstat', file, err).message}`;
  }
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'cannot write to a directory';
  if (st.isSymbolicLink()) return 'cannot write to a symbolic link directly';
  if (st.isFIFO()) return 'cannot write to a named pipe (FIFO)';
  if (st.isSocket()) return 'cannot write to a socket';
  if (st.isCharacterDevice()) return 'cannot write to a character device file';
  if (st.isBlockDevice()) return 'cannot write to a block device file';
  return `unknown file mode: ${st.mode.toString(8)}`;
}
