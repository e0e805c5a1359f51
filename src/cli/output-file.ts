import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CliContext } from './command.js';

// `export -o` / `save -o`: docker writes through an atomic writer (temp file in the
// same directory, renamed into place), so a failed export leaves no half file.
export async function streamToOutput(ctx: CliContext, output: string, what: string, open: () => Promise<Readable>): Promise<void> {
  if (output === '') {
    const body = await open();
    for await (const chunk of body) ctx.io.stdout.write(chunk as Buffer);
    return;
  }
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
