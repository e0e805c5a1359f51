// The platform as Go names it (GOARCH/GOOS), which image configs record.
const goArchOf: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

export const goArch = (arch: string = process.arch): string => goArchOf[arch] ?? arch;
export const GO_OS = 'linux';
