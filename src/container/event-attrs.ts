import type { ContainerRecord } from './types.js';

// The attributes moby's LogContainerEventWithAttributes puts on every container event:
// the caller's own, the container's labels, its image as given and its name.
export function containerEventAttrs(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, ...(rec.Config.Labels ?? {}), image: rec.Config.Image, name: rec.Name.replace(/^\//, '') };
}
