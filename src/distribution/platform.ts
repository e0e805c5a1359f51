import { invalid } from '../util/errors.js';
import { GO_OS, goArch } from '../image/platform.js';

// Platforms as containerd's platforms package parses, normalises, formats and matches
// them ("linux/amd64", "linux/arm64/v8", "arm64"), for --platform and for picking an
// entry of a manifest list or OCI index.

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const COMPONENT = /^[A-Za-z0-9_-]+$/;

export function hostPlatform(): Platform {
  return { os: GO_OS, architecture: goArch() };
}

function normalizeOs(os: string): string {
  const o = os.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  let v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return { architecture: '386', variant: '' };
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      return { architecture: 'arm64', variant: v === '8' || v === 'v8' || v === 'v8.0' ? '' : v };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === '7') v = 'v7';
      else if (/^[5-8]$/.test(v)) v = `v${v}`;
      return { architecture: 'arm', variant: v };
    default:
      return { architecture: a, variant: v };
  }
}

// platforms.Parse, with its error texts.
export function parsePlatform(specifier: string): Platform {
  if (specifier.includes('*')) throw invalid(`${JSON.stringify(specifier)}: wildcards not yet supported: invalid argument`);
  const parts = specifier.split('/');
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      throw invalid(
        `${JSON.stringify(specifier)}: ${JSON.stringify(p)} is an invalid component of ${JSON.stringify(specifier)}: platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument`,
      );
    }
  }
  const withVariant = (os: string, arch: string, variant: string): Platform => {
    const n = normalizeArch(arch, variant);
    const p: Platform = { os, architecture: n.architecture };
    if (n.variant) p.variant = n.variant;
    return p;
  };
  switch (parts.length) {
    case 1: {
      const os = normalizeOs(parts[0]!);
      if (KNOWN_OS.has(os)) return { os, architecture: goArch() };
      const p = withVariant(GO_OS, parts[0]!, '');
      if (p.architecture === 'arm' && p.variant === 'v7') delete p.variant;
      if (KNOWN_ARCH.has(p.architecture)) return p;
      throw invalid(`${JSON.stringify(specifier)}: unknown operating system or architecture: invalid argument`);
    }
    case 2: {
      const p = withVariant(normalizeOs(parts[0]!), parts[1]!, '');
      if (p.architecture === 'arm' && p.variant === 'v7') delete p.variant;
      return p;
    }
    case 3: {
      const p = withVariant(normalizeOs(parts[0]!), parts[1]!, parts[2]!);
      if (p.architecture === 'arm64' && !p.variant) p.variant = 'v8';
      return p;
    }
    default:
      throw invalid(`${JSON.stringify(specifier)}: cannot parse platform specifier: invalid argument`);
  }
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/');
}

// How well a candidate fits the wanted platform: 0 = not at all, higher is better. An
// entry's variant must be the wanted one; when none is asked for, one without a variant
// (or the architecture's baseline) is best and any other still fits.
export function platformScore(candidate: Platform | undefined, wanted: Platform): number {
  if (!candidate) return 1;
  const c = normalizeArch(candidate.architecture, candidate.variant ?? '');
  const w = normalizeArch(wanted.architecture, wanted.variant ?? '');
  if (normalizeOs(candidate.os) !== normalizeOs(wanted.os) || c.architecture !== w.architecture) return 0;
  if (c.variant === w.variant) return 3;
  return wanted.variant ? 0 : 2;
}
