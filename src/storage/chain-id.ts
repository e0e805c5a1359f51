import { sha256Hex } from '../util/ids.js';
import { invalid } from '../util/errors.js';

const digestRe = /^sha256:[0-9a-f]{64}$/;

export const isDigest = (s: string): boolean => digestRe.test(s);

// OCI image spec: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
export function chainId(parentChainId: string | null, diffId: string): string {
  if (!isDigest(diffId)) throw invalid(`invalid diff id ${JSON.stringify(diffId)}`);
  if (parentChainId === null) return diffId;
  if (!isDigest(parentChainId)) throw invalid(`invalid chain id ${JSON.stringify(parentChainId)}`);
  return `sha256:${sha256Hex(`${parentChainId} ${diffId}`)}`;
}

// The chain ids of an image's layers, bottom first (rootfs.diff_ids order).
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of diffIds) {
    parent = chainId(parent, d);
    out.push(parent);
  }
  return out;
}
