// The real `bin/trailmint` as a child process, for tests that drive the CLI and the service
// from outside: run a command to completion, or start `serve` and learn the URL it bound.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/trailmint');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `trailmint <args>` in `cwd` to completion. */
export function run(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Serving {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** everything it printed so far (JSON log lines) */
  logs: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `trailmint serve` on a free loopback port and resolves once it logged the address it
 * listens on (log level info or lower). `children` collects the process for cleanup.
 */
export function serve(
  env: NodeJS.ProcessEnv,
  opts: { cwd: string; children?: ChildProcess[]; startTimeoutMs?: number },
): Promise<Serving> {
  const child = spawn(BIN, ['serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, ...env },
    cwd: opts.cwd,
  });
  opts.children?.push(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not start:\n${out}`)),
      opts.startTimeoutMs ?? 30_000,
    );
    const onData = (d: Buffer) => {
      out += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], logs: () => out, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`serve exited ${code}:\n${out}`)));
  });
}
