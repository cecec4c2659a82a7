// CPU and memory of the server processes, read from /proc from the outside,
// so the figures are the server's own (all its threads: event loop, libuv's
// pool where bcrypt and WebCrypto run, the database driver's threads, GC).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function statFields(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of the whole process (every thread), in milliseconds. */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the name: state is field 3, so utime (14) and stime (15) sit at 11 and 12.
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

function statusKb(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export const peakRssMb = (pid: number) => statusKb(pid, 'VmHWM') / 1024;
export const rssMb = (pid: number) => statusKb(pid, 'VmRSS') / 1024;

/**
 * Resets the peak RSS (VmHWM) to the current RSS, so that each measured run
 * reports its own peak (Linux ≥ 4.0, `clear_refs` value 5). False when not
 * allowed: the peak is then the process's peak since it started.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A process and its children (PostgreSQL: the postmaster and its backends),
 * in milliseconds: the root's own time, the time of children it has already
 * reaped (cutime + cstime, so a backend that exits mid-run is still
 * counted), and the live children's own time.
 */
export function processTreeCpuMs(rootPid: number): number {
  const root = statFields(rootPid);
  if (!root) return 0;
  // cutime and cstime (fields 16, 17) sit at 13 and 14 after the name.
  let ticks = Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    // ppid is field 4 → index 1 after the name.
    if (f && Number(f[1]) === rootPid) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / CLK_TCK;
}

/** Pins a process (all its threads) to the given CPUs; false when taskset is missing. */
export function pin(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
