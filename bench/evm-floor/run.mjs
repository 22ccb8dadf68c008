// The @ethereumjs/vm floor of TEEChain's EVM benchmark (issue 6).
//
// Usage: node run.mjs DUMP_DIR [passes]
//
// Runs every workload that `bench_evm --dump DUMP_DIR` wrote (one JSON file
// each: code, calldata, gas, runs per pass, pre-state, expected result) on
// @ethereumjs/vm with Cancun rules, the same gas
// and the same pre-state, and the same "one message, rolled back after every
// run" shape as bench_evm: a state checkpoint before each run, a revert after
// it, a fresh journal (the dumped warm addresses and slots, as the test host
// had them) and a fresh original-storage cache, so that every run is a cold
// transaction again. Before timing, one run must reproduce bench_evm's result
// exactly (status, gas used, output, number of logs): otherwise the two
// engines did not run the same thing and the script exits with status 1.
//
// State lives in @ethereumjs/statemanager's SimpleStateManager (in-memory
// maps, the default of @ethereumjs/evm), the counterpart of bench_evm's
// in-memory test host. The VM's own default, the trie-backed
// MerkleStateManager without caches, rehashes trie nodes on every SSTORE
// and would measure the trie, not the interpreter.
//
// Prints, like bench_evm, one line per workload: gas per pass, the best
// pass's milliseconds and Mgas/s (gas used / wall time of the best pass; the
// fastest pass is the one that was not preempted, and the first pass is
// also the JIT's warm-up). Gas is EVM gas only: no intrinsic 21,000.

import fs from 'node:fs';
import path from 'node:path';

import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { SimpleStateManager } from '@ethereumjs/statemanager';
import { bytesToHex, createAccount, createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { createVM } from '@ethereumjs/vm';

function usage() {
  console.error('usage: node run.mjs DUMP_DIR [passes]');
  process.exit(2);
}

// The workload files of dir, in bench_evm's order (their names start with it).
function readWorkloads(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

// A VM holding the workload's pre-state, and the runCall options of its one message.
async function prepare(w) {
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
  const vm = await createVM({ common, stateManager: new SimpleStateManager({ common }) });
  const sm = vm.stateManager;
  for (const a of w.accounts) {
    const address = createAddressFromString(a.address);
    await sm.putAccount(
      address,
      createAccount({ nonce: BigInt(a.nonce), balance: BigInt(a.balance) }),
    );
    if (a.code !== '0x') {
      await sm.putCode(address, hexToBytes(a.code));
    }
    for (const [key, value] of a.storage) {
      await sm.putStorage(address, hexToBytes(key), hexToBytes(value));
    }
  }
  sm.originalStorageCache.clear();
  const caller = createAddressFromString(w.sender);
  const call = {
    caller,
    origin: caller,
    to: createAddressFromString(w.recipient),
    gasLimit: BigInt(w.gas),
    data: hexToBytes(w.calldata),
    skipNonceIncrement: true,
  };
  return { vm, call };
}

// One message as a fresh transaction, rolled back afterwards.
async function runOnce(vm, w, call) {
  const sm = vm.stateManager;
  const journal = vm.evm.journal;
  await sm.checkpoint();
  journal.cleanJournal();
  for (const a of w.warm_addresses) {
    journal.addAlwaysWarmAddress(a);
  }
  for (const [a, key] of w.warm_slots) {
    journal.addAlwaysWarmSlot(a, key);
  }
  vm.evm.transientStorage.clear();
  const res = await vm.evm.runCall(call);
  await sm.revert();
  sm.originalStorageCache.clear();
  return res.execResult;
}

// Throws unless the run reproduced bench_evm's result.
function check(w, r) {
  const status = r.exceptionError === undefined ? 'success' : r.exceptionError.error;
  const got = {
    status,
    gas_used: r.executionGasUsed.toString(),
    output: bytesToHex(r.returnValue),
    logs: (r.logs ?? []).length,
  };
  for (const field of Object.keys(w.expected)) {
    if (String(got[field]) !== String(w.expected[field])) {
      throw new Error(
        `${w.name}: ${field} is ${got[field]} on ethereumjs, ${w.expected[field]} on TEEChain`,
      );
    }
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 1 || args.length > 2) usage();
  const passes = args.length > 1 ? Number.parseInt(args[1], 10) : 3;
  if (!(passes >= 1)) usage();
  const workloads = readWorkloads(args[0]);
  if (workloads.length === 0) {
    console.error(`evm-floor: no workload in ${args[0]} (run bench_evm --dump first)`);
    process.exit(1);
  }
  console.log(`command: node ${path.basename(process.argv[1])} ${args[0]} ${passes}`);
  console.log(`engine: @ethereumjs/vm ${vmVersion()}, node ${process.version}, Cancun`);
  console.log(
    `${'workload'.padEnd(20)} ${'gas/pass'.padStart(14)} ${'ms/pass'.padStart(10)} ${'Mgas/s'.padStart(10)}`,
  );
  let failed = false;
  for (const w of workloads) {
    const { vm, call } = await prepare(w);
    try {
      check(w, await runOnce(vm, w, call));
    } catch (e) {
      console.error(`evm-floor: ${e.message}`);
      failed = true;
      continue;
    }
    let bestNs = Infinity;
    let gas = 0n;
    for (let p = 0; p < passes; p++) {
      let used = 0n;
      const start = process.hrtime.bigint();
      for (let i = 0; i < w.runs; i++) {
        used += (await runOnce(vm, w, call)).executionGasUsed;
      }
      const ns = Number(process.hrtime.bigint() - start);
      if (ns < bestNs) bestNs = ns;
      gas = used;
    }
    const mgas = Number(gas) / (bestNs / 1e9) / 1e6;
    console.log(
      `${w.name.padEnd(20)} ${gas.toString().padStart(14)} ${(bestNs / 1e6).toFixed(2).padStart(10)} ${mgas.toFixed(1).padStart(10)}`,
    );
  }
  if (failed) process.exit(1);
}

// The installed @ethereumjs/vm's version (its package.json is not exported,
// so it is read from next to the resolved entry point).
function vmVersion() {
  let dir = path.dirname(new URL(import.meta.resolve('@ethereumjs/vm')).pathname);
  for (let up = 0; up < 4; up++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === '@ethereumjs/vm') return pkg.version;
    }
  }
  return 'unknown';
}

main().catch((e) => {
  console.error(`evm-floor: ${e.stack ?? e}`);
  process.exit(1);
});
