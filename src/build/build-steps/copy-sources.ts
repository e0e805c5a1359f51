import { readdir, stat, writeFile } from 'node:fs/promises';
import { pathMatch } from '../../image/path-match.js';
import { invalid } from '../../util/errors.js';
import { contextPath } from '../build-context-daemon.js';
import type { BuildSession } from '../build-session.js';
import type { CopyInstruction } from '../dockerfile-ast.js';
import { download, isUrl, UNNAMED } from '../remote-download.js';

// The sources of a COPY or ADD (moby copier.createCopyInstruction): paths in the context
// (or, with --from, in a stage's or image's files), wildcards, heredoc bodies, and for ADD
// URLs. Each comes with the hash that goes into the step's cache key.

export interface CopySource {
  abs: string; // where it is on the host, symlinks resolved inside its root
  rel: string; // its path as named in the source (the copied file's name comes from it)
  hash: string;
  noDecompress: boolean; // downloads are never unpacked
}

export interface SourceRoot {
  root: string;
  fromImage: boolean; // error texts differ for the context
}

// moby containsWildcards: `*`, `?` or `[` not escaped by a backslash.
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

export async function copySources(s: BuildSession, inst: CopyInstruction, root: SourceRoot): Promise<CopySource[]> {
  const out: CopySource[] = [];
  const heredocs = new Map(inst.heredocs.map((h) => [h.name, h]));
  for (const orig of inst.sources) {
    const doc = heredocs.get(orig);
    if (doc) out.push(await heredocSource(s, doc.name, doc.content));
    else if (isUrl(orig)) out.push(await urlSource(s, inst, orig));
    else out.push(...(await calcCopyInfo(s, root, orig, true)));
  }
  if (out.length === 0) throw invalid('no source files were specified');
  return out;
}

async function heredocSource(s: BuildSession, name: string, content: string): Promise<CopySource> {
  const dir = await s.tmpDir('heredoc-');
  const abs = `${dir}/${name}`;
  await writeFile(abs, content, { mode: 0o644 });
  return { abs, rel: name, hash: await s.hasher.file(abs, name), noDecompress: true };
}

async function urlSource(s: BuildSession, inst: CopyInstruction, url: string): Promise<CopySource> {
  if (inst.kind === 'COPY') throw invalid("source can't be a URL for COPY");
  const dir = await s.tmpDir('download-');
  const got = await download(url, dir, s.signal);
  // moby's "random blank line" after the download progress.
  s.out.stdout('\n');
  if (inst.checksum && inst.checksum !== got.sha256) throw invalid(`digest mismatch ${got.sha256}: ${inst.checksum}`);
  if (got.filename === '' && inst.dest.endsWith('/')) throw invalid(`cannot determine filename for source ${url}`);
  const rel = got.filename || UNNAMED;
  return { abs: got.path, rel, hash: await s.hasher.file(got.path, rel), noDecompress: true };
}

async function calcCopyInfo(s: BuildSession, src: SourceRoot, origPath: string, allowWildcards: boolean): Promise<CopySource[]> {
  let p = origPath;
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('./')) p = p.slice(2);
  if (allowWildcards && containsWildcards(p)) {
    const matches: string[] = [];
    await walkMatching(src.root, '', p, matches);
    const out: CopySource[] = [];
    for (const rel of matches) out.push(...(await calcCopyInfo(s, src, rel, false)));
    return out;
  }
  const abs = await contextPath(src.root, p);
  const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
    const why = `stat ${p}: file does not exist`;
    throw invalid(src.fromImage ? why : `file not found in build context or excluded by .dockerignore: ${why}`);
  });
  const rel = abs === src.root ? '' : abs.slice(src.root.length + 1);
  const hash = st.isDirectory() ? await s.hasher.dir(abs, rel) : await s.hasher.file(abs, rel);
  return [{ abs, rel: p, hash, noDecompress: false }];
}

// filepath.WalkDir over the source, in lexical order, without following symlinks.
async function walkMatching(root: string, rel: string, pattern: string, out: string[]): Promise<void> {
  const entries = await readdir(rel === '' ? root : `${root}/${rel}`, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (pathMatch(pattern, r)) out.push(r);
    if (e.isDirectory()) await walkMatching(root, r, pattern, out);
  }
}
