import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Progress, ProgressPacer, type ProgressMessage } from '../../src/distribution/progress.js';
import { displayJsonMessages } from '../../src/cli/jsonmessage.js';

function recorder(): { messages: ProgressMessage[]; progress: Progress } {
  const messages: ProgressMessage[] = [];
  return { messages, progress: new Progress((m) => messages.push(m)) };
}

test('progress messages have dockerd 20.10 shapes and key order', () => {
  const { messages, progress } = recorder();
  progress.message('latest', 'Pulling from library/busybox');
  progress.update('a3ed95caeb02', 'Pulling fs layer');
  progress.bar('a3ed95caeb02', 'Downloading', 1_000_000, 2_000_000);
  progress.message('', 'Digest: sha256:x');
  progress.aux({ Tag: 'latest', Digest: 'sha256:x', Size: 527 });
  assert.deepEqual(
    messages.map((m) => JSON.stringify(m)),
    [
      '{"status":"Pulling from library/busybox","id":"latest"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"a3ed95caeb02"}',
      '{"status":"Downloading","progressDetail":{"current":1000000,"total":2000000},"progress":"[=========================>                         ]      1MB/2MB","id":"a3ed95caeb02"}',
      '{"status":"Digest: sha256:x"}',
      '{"progressDetail":{},"aux":{"Tag":"latest","Digest":"sha256:x","Size":527}}',
    ],
  );
});

test('the pacer reports every 1% (at most every 512 KiB), always the end, and a full bar when cut short', () => {
  const { messages, progress } = recorder();
  const p = new ProgressPacer(progress, 'id', 'Extracting', 1000);
  for (let i = 0; i < 100; i++) p.add(10);
  const currents = messages.map((m) => m.progressDetail?.current);
  assert.equal(currents[currents.length - 1], 1000);
  assert.ok(currents.length >= 1 && currents.length < 100, `${currents.length} updates`);
  const short = recorder();
  const q = new ProgressPacer(short.progress, 'id', 'Pushing', 1 << 30);
  q.add(5);
  q.finish();
  assert.equal(short.messages.at(-1)?.progressDetail?.current, 1 << 30);
});

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const PULL = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: 'Downloading', progressDetail: { current: 10, total: 20 }, progress: '[==>  ] 10B/20B', id: 'aaaaaaaaaaaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaaaaaaaaaaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'bbbbbbbbbbbb' },
  { status: 'Digest: sha256:x' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

const stream = (msgs: unknown[]): Readable => Readable.from(msgs.map((m) => JSON.stringify(m) + '\r\n'));

test('the CLI renders a pull: plain lines off a terminal, one redrawn line per layer on one', async () => {
  const plain = new Capture(false);
  await displayJsonMessages(stream(PULL), plain, { isTerminal: false });
  assert.equal(
    plain.text,
    [
      'latest: Pulling from library/busybox',
      'aaaaaaaaaaaa: Pulling fs layer',
      'bbbbbbbbbbbb: Pulling fs layer',
      'aaaaaaaaaaaa: Download complete',
      'aaaaaaaaaaaa: Pull complete',
      'bbbbbbbbbbbb: Pull complete',
      'Digest: sha256:x',
      'Status: Downloaded newer image for busybox:latest',
      '',
    ].join('\n'),
  );

  const tty = new Capture(true);
  await displayJsonMessages(stream(PULL), tty, { isTerminal: true, width: 80 });
  // Each layer got its own line once; later updates move the cursor up to it and back.
  assert.equal(tty.text.split('aaaaaaaaaaaa: Pulling fs layer').length, 2);
  assert.match(tty.text, /\x1b\[2A\x1b\[2K\raaaaaaaaaaaa: Downloading \s+10B\/20B\r\x1b\[2B/);
  assert.match(tty.text, /\x1b\[1A\x1b\[2K\rbbbbbbbbbbbb: Pull complete \r\x1b\[1B/);
  assert.match(tty.text, /Status: Downloaded newer image for busybox:latest\n$/);
});

test('an error in the stream ends the display with that message', async () => {
  const out = new Capture(false);
  const src = new PassThrough();
  src.end(JSON.stringify({ status: 'Pulling from x', id: 'latest' }) + '\r\n' + JSON.stringify({ errorDetail: { message: 'no matching manifest for linux/s390x in the manifest list entries' }, error: 'no matching manifest for linux/s390x in the manifest list entries' }) + '\r\n');
  await assert.rejects(displayJsonMessages(src, out, { isTerminal: false }), { message: 'no matching manifest for linux/s390x in the manifest list entries' });
  assert.equal(out.text, 'latest: Pulling from x\n');
});
