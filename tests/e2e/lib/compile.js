'use strict';
// Compiles the test contracts with solc-js (the npm "solc" package), through
// its standard JSON interface. The EVM version is solc's default unless the
// environment variable TC_E2E_EVM_VERSION names another one.

const fs = require('node:fs');
const path = require('node:path');
const solc = require('solc');

const CONTRACTS_DIR = path.join(__dirname, '..', 'contracts');

// Compiles contracts/<file> and returns { abi, bytecode, evmVersion,
// solcVersion } for the contract named `contractName`; throws with solc's
// messages when the source does not compile.
function compileContract(file, contractName) {
  const source = fs.readFileSync(path.join(CONTRACTS_DIR, file), 'utf8');
  const settings = {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'metadata'] } },
  };
  if (process.env.TC_E2E_EVM_VERSION) {
    settings.evmVersion = process.env.TC_E2E_EVM_VERSION;
  }
  const input = { language: 'Solidity', sources: { [file]: { content: source } }, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const contract = output.contracts?.[file]?.[contractName];
  if (!contract) {
    throw new Error(`solc: no contract ${contractName} in ${file}`);
  }
  const metadata = JSON.parse(contract.metadata);
  return {
    abi: contract.abi,
    bytecode: '0x' + contract.evm.bytecode.object,
    evmVersion: metadata.settings.evmVersion,
    solcVersion: solc.version(),
  };
}

module.exports = { compileContract };
