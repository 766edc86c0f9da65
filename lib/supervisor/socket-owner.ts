/**
 * Which process holds a loopback TCP connection: the kernel lists every socket in /proc/net/tcp(6) with
 * its inode, and each process's open sockets appear as `socket:[inode]` links in /proc/<pid>/fd. The
 * built-in tokenizer uses it to hand uids only to the runtime it started (issue 18: anything else
 * asking for uids could evict the runtime's session).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The inode of the connection from local port `clientPort` to `serverPort`; null when not listed; undefined without /proc/net. */
export function tcpConnectionInode(clientPort: number, serverPort: number): string | null | undefined {
  let tables = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    tables++;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = parseInt(f[1]?.split(':')[1] ?? '', 16);
      const remote = parseInt(f[2]?.split(':')[1] ?? '', 16);
      if (local === clientPort && remote === serverPort && f[9] !== undefined && f[9] !== '0') return f[9];
    }
  }
  return tables === 0 ? undefined : null;
}

/**
 * True when one of `pids` holds the client end of the connection `clientPort` → `serverPort`; false
 * when another process does (or none is found); undefined when this host has no /proc/net to tell.
 */
export function connectionOwnedBy(pids: readonly number[], clientPort: number, serverPort: number): boolean | undefined {
  const inode = tcpConnectionInode(clientPort, serverPort);
  if (inode === undefined) return undefined;
  if (inode === null) return false;
  const link = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return true;
      } catch {
        // closed meanwhile
      }
    }
  }
  return false;
}
