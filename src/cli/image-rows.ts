import type { HistoryItem, ImageSummary } from '../client/types.js';
import { familiarName, parseNormalizedNamed } from '../image/reference.js';
import { ellipsis, truncateId } from './container-rows.js';
import { goTimeString, humanDuration, humanSize, humanSizeWithPrecision, rfc3339 } from '../util/units.js';

// docker's imageContext and historyContext (cli/command/formatter/image.go,
// cli/command/image/formatter_history.go).

export const DEFAULT_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const DEFAULT_IMAGE_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

// NewImageFormat.
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    return digest ? DEFAULT_IMAGE_TABLE_DIGEST : DEFAULT_IMAGE_TABLE;
  }
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    if (digest) {
      return 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
    }
    return 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (source.startsWith('table') && digest && !source.includes('{{.Digest}}')) return `${source}\t{{.Digest}}`;
  return source;
}

export function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

export type ImageRow = Record<string, string>;

function imageRow(img: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string, now: number): ImageRow {
  return {
    Containers: img.Containers === -1 ? 'N/A' : String(img.Containers ?? 0),
    CreatedAt: goTimeString(img.Created),
    CreatedSince: `${humanDuration(now - img.Created * 1000)} ago`,
    Digest: digest,
    ID: trunc ? truncateId(img.Id) : img.Id,
    Repository: repo,
    SharedSize: img.SharedSize === -1 ? 'N/A' : humanSize(img.SharedSize ?? 0),
    Size: humanSizeWithPrecision(img.Size, 3),
    Tag: tag,
    UniqueSize: img.Size === -1 || img.SharedSize === -1 ? 'N/A' : humanSize(img.Size - (img.SharedSize ?? 0)),
    VirtualSize: humanSize(img.Size),
  };
}

// imageFormatTaggedAndDigest: one row per (repository, tag[, digest]).
export function imageRows(images: readonly ImageSummary[], opts: { trunc: boolean; digest: boolean; needDigest: boolean }, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      rows.push(imageRow(img, opts.trunc, '<none>', '<none>', '<none>', now));
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      try {
        const ref = parseNormalizedNamed(s);
        if (ref.tag === undefined) continue;
        const name = familiarName(ref);
        repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
      } catch {
        /* docker skips what it cannot parse */
      }
    }
    for (const s of img.RepoDigests ?? []) {
      try {
        const ref = parseNormalizedNamed(s);
        if (ref.digest === undefined) continue;
        const name = familiarName(ref);
        repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
      } catch {
        /* skipped */
      }
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!opts.needDigest) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) rows.push(imageRow(img, opts.trunc, repo, tag, '<none>', now));
        else for (const d of digests) rows.push(imageRow(img, opts.trunc, repo, tag, d, now));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digest) for (const d of digests) rows.push(imageRow(img, opts.trunc, repo, '<none>', d, now));
      else rows.push(imageRow(img, opts.trunc, repo, '<none>', '', now));
    }
  }
  return rows;
}

export const HISTORY_HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source === 'table') {
    if (quiet) return '{{.ID}}';
    if (!human) return 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    return 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
  }
  return source;
}

const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

export function historyRow(h: HistoryItem, trunc: boolean, human: boolean, now = Date.now()): Record<string, string> {
  const createdAt = rfc3339(h.Created);
  const createdBy = (h.CreatedBy ?? '').replace(/\t/g, ' ');
  let since = createdAt;
  if (human) since = h.Created <= EPOCH_2000 ? 'N/A' : `${humanDuration(now - h.Created * 1000)} ago`;
  return {
    Comment: h.Comment ?? '',
    CreatedAt: createdAt,
    CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: since,
    ID: trunc ? truncateId(h.Id) : h.Id,
    Size: human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
  };
}
