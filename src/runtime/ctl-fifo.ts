import koffi from 'koffi';
import { open } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';

// Writer for conmon's ctl fifo ("<type> <height> <width>\n"; type 1 resizes the tty).
// conmon 2.1.x mishandles a read that returns several lines: it processes the first line
// once per line (read_from_ctrl_buffer hands ctlbuf, not the line, to its parser), so
// `docker attach`'s two quick resizes (size+1, then the size) left the tty one row and
// column too big. Each message therefore goes out alone: after conmon has read the one
// before (FIONREAD on the fifo says nothing is pending), one container at a time.

const FIONREAD = 0x541b;
let ioctl: ((fd: number, req: number, out: Buffer) => number) | null = null;

function pendingBytes(fd: number): number {
  ioctl ??= koffi.load('libc.so.6').func('int ioctl(int fd, unsigned long req, void *out)') as (fd: number, req: number, out: Buffer) => number;
  const out = Buffer.alloc(4);
  return ioctl(fd, FIONREAD, out) < 0 ? 0 : out.readInt32LE(0);
}

// conmon answers within a millisecond when alive; a stuck one must not hold resizes forever.
const DRAIN_TIMEOUT_MS = 1000;

async function drained(fd: number): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (let delay = 1; pendingBytes(fd) > 0 && Date.now() < deadline; delay = Math.min(delay * 2, 20)) {
    await new Promise((r) => setTimeout(r, delay));
  }
}

export class CtlFifo {
  private readonly tails = new Map<string, Promise<void>>();

  // Rejects with the open error (ENOENT: no fifo, ENXIO: no conmon reading it).
  send(path: string, line: string): Promise<void> {
    const prev = this.tails.get(path) ?? Promise.resolve();
    const next = prev.then(() => this.write(path, line));
    const tail = next.catch(() => {});
    this.tails.set(path, tail);
    void tail.then(() => {
      if (this.tails.get(path) === tail) this.tails.delete(path);
    });
    return next;
  }

  private async write(path: string, line: string): Promise<void> {
    // Non-blocking: with conmon gone nobody reads the fifo and a blocking open would hang.
    const fh = await open(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
    try {
      await drained(fh.fd);
      await fh.write(line);
      await drained(fh.fd);
    } finally {
      await fh.close();
    }
  }
}
