'use strict';
// The end-to-end harness: runs one test script against a real chain.
//
// A script calls runSuite(name, body). The harness parses the command line
// (paths of the binaries, ports, node count, time bound; see usage()), makes
// a temporary directory, writes a chain into it with `teechain build-chain`,
// starts every teechaind in its node folder, waits until each answers
// eth_blockNumber, and then calls body(t, chain). The body runs named steps
// with t.step(name, fn): a step that throws fails, and every later step is
// reported as skipped (steps build on each other's state). Whatever happens
// (a failed step, an exception, the time bound, SIGTERM/SIGINT from CTest),
// the harness stops the nodes (SIGTERM, then SIGKILL after a bound) and
// removes the temporary directory. The last line printed is
// "<name>: N passed, N failed, N skipped"; the exit status is 0 only when no
// step failed, every node was up and every node stopped cleanly.

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const READY_TIMEOUT_MS = 20000;
const READY_POLL_MS = 100;
const STOP_TIMEOUT_MS = 10000;
const KILL_TIMEOUT_MS = 5000;
const BUILD_CHAIN_TIMEOUT_MS = 30000;
const DEFAULT_STEP_TIMEOUT_MS = 60000;
const DEFAULT_SUITE_TIMEOUT_S = 180;
const LOG_TAIL_LINES = 30;
const MAX_NODES = 10;
const MAX_DETAIL_CHARS = 600;

function usage() {
  return (
    'usage: node SCRIPT --teechain PATH --teechaind PATH --ports P2P,RPC ' +
    '[--nodes N] [--accounts N] [--timeout-s S] [--keep]\n' +
    '  (or the environment: TC_TEECHAIN, TC_TEECHAIND, TC_E2E_PORTS, TC_E2E_NODES)'
  );
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      teechain: { type: 'string' },
      teechaind: { type: 'string' },
      ports: { type: 'string' },
      nodes: { type: 'string' },
      accounts: { type: 'string' },
      'timeout-s': { type: 'string' },
      keep: { type: 'boolean' },
    },
    strict: true,
  });
  const opts = {
    teechain: values.teechain || process.env.TC_TEECHAIN,
    teechaind: values.teechaind || process.env.TC_TEECHAIND,
    ports: values.ports || process.env.TC_E2E_PORTS,
    nodes: Number(values.nodes || process.env.TC_E2E_NODES || 1),
    accounts: Number(values.accounts || 10),
    timeoutMs: 1000 * Number(values['timeout-s'] || DEFAULT_SUITE_TIMEOUT_S),
    keep: Boolean(values.keep),
  };
  if (!opts.teechain || !opts.teechaind || !opts.ports) {
    throw new Error(`missing option\n${usage()}`);
  }
  const m = /^(\d+),(\d+)$/.exec(opts.ports);
  if (!m) {
    throw new Error(`--ports: expected P2P,RPC, got ${opts.ports}`);
  }
  opts.p2pPort = Number(m[1]);
  opts.rpcPort = Number(m[2]);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES) {
    throw new Error(`--nodes: expected 1..${MAX_NODES}, got ${opts.nodes}`);
  }
  if (!Number.isInteger(opts.accounts) || opts.accounts < 1 || opts.accounts > 100) {
    throw new Error(`--accounts: expected 1..100, got ${opts.accounts}`);
  }
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw new Error('--timeout-s: expected a positive number');
  }
  for (const bin of [opts.teechain, opts.teechaind]) {
    if (!fs.existsSync(bin)) {
      throw new Error(`${bin} does not exist: build it first (cmake --build BUILD)`);
    }
  }
  return opts;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Rejects with `message` when `promise` has not settled after `ms`.
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// One JSON-RPC call with a deadline; returns the result or throws the error.
async function rpcCall(url, method, params = [], timeoutMs = 5000) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 200) {
    throw new Error(`${method}: HTTP status ${res.status}`);
  }
  const body = await res.json();
  if (body.error) {
    const err = new Error(`${method}: JSON-RPC error ${body.error.code}: ${body.error.message}`);
    err.rpcError = body.error;
    throw err;
  }
  return body.result;
}

function execFileBounded(file, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

function readAccounts(accountsDir) {
  const files = fs
    .readdirSync(accountsDir)
    .filter((f) => /^0x[0-9a-fA-F]{40}\.key$/.test(f))
    .sort();
  return files.map((f) => {
    const hex = fs.readFileSync(path.join(accountsDir, f), 'utf8').trim().replace(/^0x/, '');
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw new Error(`${f}: not a 32-byte hex private key`);
    }
    return { address: f.slice(0, -'.key'.length), privateKey: '0x' + hex };
  });
}

function logTail(file) {
  try {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    return lines.slice(-LOG_TAIL_LINES - 1).join('\n');
  } catch (err) {
    return `(no log: ${err.message})`;
  }
}

// A running chain: its nodes (processes), RPC URLs, chain id and funded
// development accounts ({ address, privateKey }).
class Chain {
  constructor(opts, name) {
    this.opts = opts;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `teechain-e2e-${name}-`));
    this.nodes = [];
    this.rpcUrls = [];
    this.accounts = [];
    this.chainId = 20200n;
  }

  get rpcUrl() {
    return this.rpcUrls[0];
  }

  async start() {
    const out = path.join(this.dir, 'nodes');
    const { opts } = this;
    await execFileBounded(
      opts.teechain,
      [
        'build-chain',
        '-l',
        `127.0.0.1:${opts.nodes}`,
        '-o',
        out,
        '-p',
        `${opts.p2pPort},${opts.rpcPort}`,
        '--accounts',
        String(opts.accounts),
        '--bin',
        opts.teechaind,
      ],
      BUILD_CHAIN_TIMEOUT_MS,
    );
    this.accounts = readAccounts(path.join(out, 'accounts'));
    for (let i = 0; i < opts.nodes; i++) {
      this.startNode(i, path.join(out, '127.0.0.1', `node${i}`));
    }
    await Promise.all(this.nodes.map((node) => this.waitReady(node)));
  }

  startNode(index, cwd) {
    const logFile = path.join(this.dir, `node${index}.out`);
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(this.opts.teechaind, ['-c', 'config.ini', '-g', 'config.genesis'], {
      cwd,
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    const node = {
      index,
      child,
      logFile,
      url: `http://127.0.0.1:${this.opts.rpcPort + index}`,
      exit: null,
      stopping: false,
      exited: null,
    };
    node.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        node.exit = { code, signal, duringTest: !node.stopping };
        resolve();
      });
      child.on('error', (err) => {
        node.exit = { code: null, signal: null, error: err.message, duringTest: !node.stopping };
        resolve();
      });
    });
    this.nodes.push(node);
    this.rpcUrls.push(node.url);
  }

  async waitReady(node) {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = null;
    while (Date.now() < deadline) {
      if (node.exit) {
        throw new Error(
          `node${node.index} exited before it was ready (${describeExit(node.exit)})\n` +
            logTail(node.logFile),
        );
      }
      try {
        await rpcCall(node.url, 'eth_blockNumber', [], 1000);
        return;
      } catch (err) {
        lastError = err;
      }
      await sleep(READY_POLL_MS);
    }
    throw new Error(
      `node${node.index} did not answer eth_blockNumber on ${node.url} within ` +
        `${READY_TIMEOUT_MS} ms (last error: ${lastError && lastError.message})\n` +
        logTail(node.logFile),
    );
  }

  // Stops every node: SIGTERM, then SIGKILL after STOP_TIMEOUT_MS. Returns
  // the problems seen (a node that died during the test, or that did not
  // exit with status 0 on SIGTERM), as strings.
  async stop() {
    const problems = [];
    await Promise.all(
      this.nodes.map(async (node) => {
        if (node.exit) {
          problems.push(`node${node.index} exited during the test (${describeExit(node.exit)})`);
          return;
        }
        node.stopping = true;
        node.child.kill('SIGTERM');
        const stopped = await Promise.race([
          node.exited.then(() => true),
          sleep(STOP_TIMEOUT_MS).then(() => false),
        ]);
        if (!stopped) {
          node.child.kill('SIGKILL');
          await Promise.race([node.exited, sleep(KILL_TIMEOUT_MS)]);
          problems.push(`node${node.index} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
        } else if (node.exit.code !== 0) {
          problems.push(`node${node.index} did not stop cleanly on SIGTERM (${describeExit(node.exit)})`);
        }
      }),
    );
    return problems;
  }

  // Last resort from a signal handler or process exit: synchronous.
  killNow() {
    for (const node of this.nodes) {
      if (!node.exit) {
        try {
          node.child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.removeDir();
  }

  removeDir() {
    if (!this.opts.keep) {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  printLogs() {
    for (const node of this.nodes) {
      console.log(`--- last lines of node${node.index}'s output (${node.logFile}) ---`);
      console.log(logTail(node.logFile));
    }
  }
}

function describeExit(exit) {
  if (exit.error) {
    return `could not run: ${exit.error}`;
  }
  return exit.signal ? `signal ${exit.signal}` : `exit status ${exit.code}`;
}

// The step runner handed to a suite's body.
class Steps {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.skipped = 0;
    this.count = 0;
    this.running = null;
    this.closed = false;
  }

  // Runs fn() as the step `name` within timeoutMs, unless an earlier step
  // failed (then it is skipped). Never throws.
  async step(name, fn, timeoutMs = DEFAULT_STEP_TIMEOUT_MS) {
    if (this.closed) {
      return;
    }
    this.count++;
    if (this.failed > 0) {
      this.skipped++;
      console.log(`skip ${this.count} - ${name} (an earlier step failed)`);
      return;
    }
    const start = Date.now();
    this.running = name;
    try {
      await withTimeout(Promise.resolve().then(fn), timeoutMs, `step timed out after ${timeoutMs} ms`);
      if (this.closed) {
        return;
      }
      this.passed++;
      console.log(`ok ${this.count} - ${name} (${Date.now() - start} ms)`);
    } catch (err) {
      if (this.closed) {
        return;
      }
      this.failed++;
      console.log(`not ok ${this.count} - ${name} (${Date.now() - start} ms)`);
      console.log(indent(describeError(err)));
    } finally {
      this.running = null;
    }
  }

  fail(name, message) {
    this.count++;
    this.failed++;
    console.log(`not ok ${this.count} - ${name}`);
    console.log(indent(message));
  }
}

function describeError(err) {
  if (!(err instanceof Error)) {
    return String(err);
  }
  let text = (err.stack || err.message)
    .split('\n')
    .map((line) => (line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}...` : line))
    .join('\n');
  // ethers and web3 attach what the node answered: show it.
  for (const key of ['code', 'shortMessage', 'reason', 'info', 'data']) {
    if (err[key] !== undefined) {
      text += `\n${key}: ${safeJson(err[key])}`;
    }
  }
  if (err.cause) {
    text += `\ncause: ${err.cause.message || safeJson(err.cause)}`;
  }
  return text;
}

// JSON of an error's detail, cut to MAX_DETAIL_CHARS (an ethers error holds
// the whole request, init code included).
function safeJson(value) {
  let text;
  try {
    text = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    text = String(value);
  }
  if (text !== undefined && text.length > MAX_DETAIL_CHARS) {
    text = `${text.slice(0, MAX_DETAIL_CHARS)}... (${text.length} characters)`;
  }
  return text;
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

// Runs body(t, chain) on a fresh chain and exits the process with the
// outcome. Never returns.
async function runSuite(name, body) {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.log(`${name}: ${err.message}`);
    console.log(`${name}: 0 passed, 1 failed`);
    process.exit(1);
  }
  const t = new Steps();
  const chain = new Chain(opts, name);
  let cleaned = false;
  const emergency = (signal) => {
    if (!cleaned) {
      cleaned = true;
      chain.killNow();
    }
    if (signal) {
      console.log(`${name}: stopped by ${signal}; nodes killed, ${chain.dir} removed`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => emergency('SIGTERM'));
  process.on('SIGINT', () => emergency('SIGINT'));
  process.on('exit', () => emergency(null));

  console.log(
    `${name}: ${opts.nodes} node(s), P2P from ${opts.p2pPort}, RPC from ${opts.rpcPort}, ` +
      `bound ${opts.timeoutMs / 1000} s, dir ${chain.dir}`,
  );
  const started = Date.now();
  try {
    await withTimeout(
      (async () => {
        await t.step('chain built and every node answers eth_blockNumber', () => chain.start(), 60000);
        if (t.failed === 0) {
          await body(t, chain);
        }
      })(),
      opts.timeoutMs,
      `${name} did not finish within ${opts.timeoutMs / 1000} s`,
    );
  } catch (err) {
    const running = t.running ? `step "${t.running}" was running\n` : '';
    t.fail('the suite ran to its end in time', running + describeError(err));
  }
  // A step still running after the time bound no longer counts.
  t.closed = true;
  const problems = await chain.stop();
  if (problems.length > 0) {
    t.fail('every node ran the whole test and stopped cleanly on SIGTERM', problems.join('\n'));
  }
  if (t.failed > 0) {
    chain.printLogs();
  }
  if (!opts.keep) {
    chain.removeDir();
  } else {
    console.log(`${name}: chain kept in ${chain.dir}`);
  }
  cleaned = true;
  console.log(`${name}: finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${name}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  process.exit(t.failed > 0 ? 1 : 0);
}

module.exports = { runSuite, rpcCall, sleep, withTimeout };
