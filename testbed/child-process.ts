// Child processes of the test bed (etcd, kube-apiserver) that never outlive the test run.
//
// Three layers, because a crashed or killed test runner must not leave servers and ports behind:
// 1. `setpriv --pdeathsig SIGKILL` makes the kernel kill the child when our process dies,
//    even by SIGKILL, where no JavaScript runs any more.
// 2. A process 'exit' hook SIGKILLs whatever is still running (covers a missing setpriv) and
//    removes the temp dirs registered with removeOnExit.
// 3. terminate(): the orderly way, SIGTERM and wait, SIGKILL after a grace period.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with a description of how the process ended ("exit code 1", "signal SIGTERM"). */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  terminate(graceMs: number): Promise<void>;
}

const running = new Set<{ pid: number; hasExited(): boolean }>();
const dirsToRemove = new Set<string>();
let exitHookInstalled = false;

/** Removes dir when the process exits, unless forgetOnExit(dir) came first. */
export function removeOnExit(dir: string): void {
  installExitHook();
  dirsToRemove.add(dir);
}

export function forgetOnExit(dir: string): void {
  dirsToRemove.delete(dir);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (!child.hasExited()) killQuietly(child.pid, 'SIGKILL');
    }
    for (const dir of dirsToRemove) {
      try {
        // The killed servers may still be closing files: retry a few times.
        rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      } catch {
        // Best effort while exiting; the dir is under os.tmpdir().
      }
    }
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: nothing to do.
  }
}

const setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});

/** Starts `binary args…` with stdout and stderr appended to logPath. */
export function spawnManaged(name: string, binary: string, args: readonly string[], logPath: string): ManagedProcess {
  installExitHook();
  const logFd = openSync(logPath, 'a');
  // setpriv execs the binary in place, so the pid we get is the server's own pid.
  const [command, commandArgs] =
    setprivPath === undefined ? [binary, [...args]] : [setprivPath, ['--pdeathsig', 'SIGKILL', '--', binary, ...args]];
  const child = spawn(command, commandArgs, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);

  let exitDescription: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => {
      exitDescription ??= `failed to start: ${error.message}`;
      resolve(exitDescription);
    });
    child.once('exit', (code, signal) => {
      exitDescription ??= signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
      resolve(exitDescription);
    });
  });
  const pid = child.pid ?? -1;
  const handle: ManagedProcess = {
    name,
    pid,
    logPath,
    exited,
    hasExited: () => exitDescription !== undefined,
    async terminate(graceMs: number): Promise<void> {
      if (exitDescription !== undefined) return;
      killQuietly(pid, 'SIGTERM');
      const timer = setTimeout(() => killQuietly(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** The last lines of a log file, for error messages. */
export function logTail(logPath: string, lines = 30): string {
  try {
    const text = readFileSync(logPath, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
