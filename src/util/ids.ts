import { randomBytes, createHash } from 'node:crypto';

// IDs are 64 lowercase hex characters; the short form is the first 12, as Docker shows.
export const newId = (): string => randomBytes(32).toString('hex');
export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);
export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
export const isFullId = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);
