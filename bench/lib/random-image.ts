// A docker-archive (`docker save` format) of an image made of layers of random bytes, so that
// both engines `load` exactly the same content and nothing compresses to nothing on push.
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export interface RandomImageSpec {
  layers: number;
  /** Bytes of random data per layer (one file per layer). */
  layerBytes: number;
  /** The name it is loaded as, e.g. "berth-bench/random:latest". */
  tag: string;
}

export interface RandomImage {
  /** sha256:… of the config: the image ID both engines show after loading. */
  id: string;
  /** Uncompressed size of all layers (their tars). */
  bytes: number;
}

function tarToBuffer(pack: tar.Pack): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

function entry(pack: tar.Pack, name: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0) }, body, (err) => (err ? reject(err) : resolve()));
  });
}

async function layerTar(index: number, size: number): Promise<Buffer> {
  const pack = tar.pack();
  const done = tarToBuffer(pack);
  await entry(pack, `random-${index}.bin`, randomFillSync(Buffer.allocUnsafe(size)));
  pack.finalize();
  return done;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export async function writeRandomImageArchive(path: string, spec: RandomImageSpec): Promise<RandomImage> {
  const outer = tar.pack();
  const written = pipeline(outer, createWriteStream(path));
  const diffIds: string[] = [];
  const layerPaths: string[] = [];
  let bytes = 0;
  for (let i = 0; i < spec.layers; i++) {
    // One layer in memory at a time; each entry is flushed to the file before the next.
    const layer = await layerTar(i, spec.layerBytes);
    const hex = sha256(layer);
    diffIds.push(`sha256:${hex}`);
    layerPaths.push(`${hex}/layer.tar`);
    bytes += layer.length;
    await entry(outer, `${hex}/layer.tar`, layer);
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: { Cmd: ['/random-0.bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'berth bench: random bytes' })),
  });
  const configHex = sha256(config);
  await entry(outer, `${configHex}.json`, Buffer.from(config));
  const manifest = [{ Config: `${configHex}.json`, RepoTags: [spec.tag], Layers: layerPaths }];
  await entry(outer, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
  outer.finalize();
  await written;
  return { id: `sha256:${configHex}`, bytes };
}
