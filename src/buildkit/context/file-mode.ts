import { constants } from 'node:fs';

/**
 * Go's `os.FileMode` bits (io/fs FileMode), which fsutil puts in `Stat.mode` (tonistiigi/fsutil
 * types/stat.proto): the permission bits plus one type bit per kind of file, in the top bits of a
 * uint32. Unix `st_mode` keeps the type in S_IFMT instead, so the two differ for everything but
 * permissions.
 */
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

/** Type bits Go counts as "not a regular file" (fs.ModeType): only regular files carry data. */
const GO_MODE_TYPE = GO_MODE.dir + GO_MODE.symlink + GO_MODE.namedPipe + GO_MODE.socket + GO_MODE.device + GO_MODE.charDevice;

/** Unix `st_mode` → Go `os.FileMode` as a uint32. */
export function goFileMode(unixMode: number): number {
  let mode = unixMode & 0o777;
  // S_ISUID, S_ISGID, S_ISVTX (not in @types/node's fs.constants).
  if (unixMode & 0o4000) mode += GO_MODE.setuid;
  if (unixMode & 0o2000) mode += GO_MODE.setgid;
  if (unixMode & 0o1000) mode += GO_MODE.sticky;
  switch (unixMode & constants.S_IFMT) {
    case constants.S_IFDIR:
      return mode + GO_MODE.dir;
    case constants.S_IFLNK:
      return mode + GO_MODE.symlink;
    case constants.S_IFIFO:
      return mode + GO_MODE.namedPipe;
    case constants.S_IFSOCK:
      return mode + GO_MODE.socket;
    case constants.S_IFBLK:
      return mode + GO_MODE.device;
    case constants.S_IFCHR:
      return mode + GO_MODE.device + GO_MODE.charDevice;
    default:
      return mode;
  }
}

/** fsutil `fileCanRequestData`: the receiver may REQ only regular files (no type bit set). */
export function isRegularGoMode(goMode: number): boolean {
  // JS bitwise operators work on signed 32-bit values; `>>> 0` keeps the comparison unsigned.
  return ((goMode >>> 0) & (GO_MODE_TYPE >>> 0)) >>> 0 === 0;
}
