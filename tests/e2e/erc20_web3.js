'use strict';
// e2e.erc20_web3: contracts/Token.sol compiled by solc-js and driven through
// web3.js v4 with a private-key account: deploy, calls (eth_call), a transfer
// with its Transfer event, getPastEvents (eth_getLogs), and the revert
// reasons web3 reports for a require message and a custom error.

const assert = require('node:assert/strict');
const { Web3 } = require('web3');
const { runSuite } = require('./lib/harness');
const { compileContract } = require('./lib/compile');

const SUPPLY = 10n ** 24n;

// Checks that `promise` rejects with the revert web3 decoded: a message for
// a require (errorName undefined), or a custom error's name and arguments.
async function expectRevert(promise, check) {
  await assert.rejects(promise, (err) => {
    const inner = err.cause || err.innerError || err;
    assert.equal(inner.code, 3, `JSON-RPC error code 3 (geth's revert): ${err.message}`);
    check(inner, err);
    return true;
  });
}

runSuite('erc20_web3', async (t, chain) => {
  const web3 = new Web3(chain.rpcUrl);
  web3.setConfig({
    transactionPollingInterval: 100,
    transactionReceiptPollingInterval: 100,
    transactionPollingTimeout: 30000,
    transactionSendTimeout: 30000,
  });
  const wallet = web3.eth.accounts.wallet.add(chain.accounts[0].privateKey);
  const from = wallet[0].address;
  const to = web3.utils.toChecksumAddress(
    '0x' + web3.utils.keccak256('teechain-e2e:web3-token-recipient').slice(-40),
  );
  let compiled;
  let token;

  await t.step('Token.sol compiles with solc-js', () => {
    compiled = compileContract('Token.sol', 'Token');
    assert.ok(compiled.bytecode.length > 2);
  });

  await t.step('deploy with web3.eth.Contract().deploy().send()', async () => {
    const nonce = await web3.eth.getTransactionCount(from, 'pending');
    const contract = new web3.eth.Contract(compiled.abi);
    const deployment = contract.deploy({
      data: compiled.bytecode,
      arguments: ['TEEChain Web3 Token', 'TW3', SUPPLY],
    });
    const gas = await deployment.estimateGas({ from });
    assert.ok(gas > 21000n, `deployment estimate ${gas}`);
    token = await deployment.send({ from, gas: String(gas) });
    const predicted = web3.utils.toChecksumAddress(
      '0x' + web3.utils.keccak256(web3.utils.bytesToHex(rlpSenderNonce(from, nonce))).slice(-40),
    );
    assert.equal(web3.utils.toChecksumAddress(token.options.address), predicted);
    const code = await web3.eth.getCode(token.options.address);
    assert.ok(code.length > 2, 'eth_getCode returns the runtime code');
  });

  await t.step('calls: name, symbol, totalSupply, balanceOf', async () => {
    assert.equal(await token.methods.name().call(), 'TEEChain Web3 Token');
    assert.equal(await token.methods.symbol().call(), 'TW3');
    assert.equal(await token.methods.totalSupply().call(), SUPPLY);
    assert.equal(await token.methods.balanceOf(from).call(), SUPPLY);
  });

  await t.step('transfer: receipt, Transfer event, balances, getPastEvents', async () => {
    const amount = 1234n;
    const receipt = await token.methods.transfer(to, amount).send({ from });
    assert.equal(receipt.status, 1n);
    const ev = receipt.events.Transfer;
    assert.ok(ev, 'the receipt carries the decoded Transfer event');
    assert.equal(ev.returnValues.from, from);
    assert.equal(ev.returnValues.to, to);
    assert.equal(ev.returnValues.value, amount);
    assert.equal(await token.methods.balanceOf(to).call(), amount);
    assert.equal(await token.methods.balanceOf(from).call(), SUPPLY - amount);
    const events = await token.getPastEvents('Transfer', { fromBlock: 0, toBlock: 'latest' });
    assert.equal(events.length, 2);
    assert.equal(events[1].returnValues.to, to);
    assert.equal(events[1].transactionHash, receipt.transactionHash);
  });

  await t.step('reverts: the require message and the custom error reach web3', async () => {
    const zero = '0x0000000000000000000000000000000000000000';
    await expectRevert(token.methods.transfer(zero, 1n).call({ from }), (inner) => {
      assert.match(inner.message, /transfer to the zero address/);
    });
    await expectRevert(token.methods.transfer(from, 5000n).call({ from: to }), (inner) => {
      assert.equal(inner.errorName, 'InsufficientBalance');
      assert.equal(inner.errorArgs.available, 1234n);
      assert.equal(inner.errorArgs.required, 5000n);
    });
  });
});

// RLP of [sender, nonce], whose keccak gives a CREATE address (the node
// must compute it as Ethereum does, so a client can predict it).
function rlpSenderNonce(sender, nonce) {
  const addr = Buffer.from(sender.slice(2), 'hex');
  let nonceBytes;
  if (nonce === 0n) {
    nonceBytes = Buffer.from([0x80]);
  } else if (nonce < 0x80n) {
    nonceBytes = Buffer.from([Number(nonce)]);
  } else {
    let hex = nonce.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    const raw = Buffer.from(hex, 'hex');
    nonceBytes = Buffer.concat([Buffer.from([0x80 + raw.length]), raw]);
  }
  const payload = Buffer.concat([Buffer.from([0x80 + 20]), addr, nonceBytes]);
  return Buffer.concat([Buffer.from([0xc0 + payload.length]), payload]);
}
