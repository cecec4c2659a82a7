// A port no other test process will take, for a server that must know its
// port before it listens (its ISSUER names it; Apache's Listen line).
//
// "Listen on port 0, read the port, close, listen again" races: between the
// close and the second listen, the kernel may hand the same port to another
// process's listener on port 0, or to an outgoing connection as its source
// port (EADDRINUSE, seen once the suite ran files in parallel). So the ports
// come from below the kernel's ephemeral range (which neither ever uses),
// and each is claimed across processes by creating a file named for it
// (O_EXCL: one creator wins), holding the claimer's pid so that a claim left
// by a process that died is taken back. A process's claims go when it exits.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLAIMS = join(tmpdir(), 'latchkey-test-ports');
const claimed: string[] = [];

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** Ports [LOW, HIGH): below the ephemeral range, above the well-known ports. */
const HIGH = ephemeralLow();
const LOW = Math.max(1024, HIGH - 12_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process, or says it is another live process's. */
function claim(port: number): boolean {
  const file = join(CLAIMS, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      claimed.push(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = 0;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released meanwhile: try again
      }
      // A claim being written (empty) or held by a live process stays.
      if (!owner || alive(owner)) return false;
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

process.once('exit', () => {
  for (const file of claimed) {
    try {
      unlinkSync(file);
    } catch {}
  }
});

/** A port on 127.0.0.1 that is free now and that no other test process will be given. */
export async function freePort(): Promise<number> {
  mkdirSync(CLAIMS, { recursive: true });
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    // Something outside the tests (another program) may hold it: then another.
    if (claim(port) && (await bindable(port))) return port;
  }
  throw new Error(`no free port claimed in ${CLAIMS} after 200 tries (${readdirSync(CLAIMS).length} claims there)`);
}
