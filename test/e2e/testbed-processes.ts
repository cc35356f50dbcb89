// Finds the test bed's server processes by their temp dir, which is in every server's arguments.
import { readdirSync, readFileSync } from 'node:fs';

export function processesUsingDir(dir: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue; // exited while we looked
    }
    if (command.includes(dir)) found.push({ pid: Number(entry), command });
  }
  return found;
}

/** Polls until no process mentions dir, or the timeout passes; returns what is left. */
export async function waitUntilNoProcessUses(dir: string, timeoutMs: number): Promise<{ pid: number; command: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesUsingDir(dir);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
