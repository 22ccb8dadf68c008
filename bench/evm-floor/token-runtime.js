'use strict';
// Prints the runtime bytecode of tests/e2e/contracts/Token.sol as C string
// lines, for the "erc20 solc transfer" workload of bench/bench_evm.c
// (TOKEN_RUNTIME). Compiled with the solc pinned by tests/e2e/package.json,
// the settings of tests/e2e/lib/compile.js (optimizer on, 200 runs) and EVM
// version cancun, the fork TEEChain's EVM implements. Run once by hand:
//
//   NODE_PATH=<build>/tests/e2e/npm/node_modules node bench/evm-floor/token-runtime.js
//
// (<build>/tests/e2e/npm is filled by `ctest -R e2e.npm_ci`). It also prints,
// as comments, the compiler version and the storage slot of each variable:
// the benchmark funds balanceOf, whose slot it must know.

const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const FILE = 'Token.sol';
const source = fs.readFileSync(
  path.join(__dirname, '..', '..', 'tests', 'e2e', 'contracts', FILE),
  'utf8',
);
const input = {
  language: 'Solidity',
  sources: { [FILE]: { content: source } },
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { Token: ['evm.deployedBytecode.object', 'storageLayout'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const token = output.contracts[FILE].Token;
const slots = token.storageLayout.storage.map((s) => `${s.label} ${s.slot}`).join(', ');
console.log(`/* solc ${solc.version()}, evmVersion cancun, optimizer 200 runs */`);
console.log(`/* storage slots: ${slots} */`);
const hex = token.evm.deployedBytecode.object;
for (let i = 0; i < hex.length; i += 88) {
  console.log(`"${hex.slice(i, i + 88)}"`);
}
