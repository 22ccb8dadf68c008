'use strict';
// e2e.web3_transfer: an EIP-1559 (type 2) value transfer through web3.js v4
// with a private-key account (web3.eth.accounts.wallet.add): the receipt
// arrives, its type is 0x2, and the balances move by value + fee.

const assert = require('node:assert/strict');
const { Web3, FMT_BYTES, FMT_NUMBER } = require('web3');
const { runSuite, rpcCall } = require('./lib/harness');

const HEX = { number: FMT_NUMBER.HEX, bytes: FMT_BYTES.HEX };

function web3For(url) {
  const web3 = new Web3(url);
  web3.setConfig({
    transactionPollingInterval: 100,
    transactionReceiptPollingInterval: 100,
    transactionPollingTimeout: 30000,
    transactionSendTimeout: 30000,
  });
  return web3;
}

runSuite('web3_transfer', async (t, chain) => {
  const web3 = web3For(chain.rpcUrl);
  const [acct0] = chain.accounts;
  const to = web3.utils.toChecksumAddress(
    '0x' + web3.utils.keccak256('teechain-e2e:web3-recipient').slice(-40),
  );
  const value = web3.utils.toWei('2.25', 'ether');

  await t.step('eth_chainId and net_version through web3', async () => {
    assert.equal(await web3.eth.getChainId(), 20200n);
    assert.equal(String(await web3.eth.net.getId()), '20200');
    assert.ok((await web3.eth.getBlockNumber()) >= 0n);
  });

  const wallet = web3.eth.accounts.wallet.add(acct0.privateKey);
  const from = wallet[0].address;

  // Sends `value` to `to` as a type-2 transaction with web3's send options
  // `sendOptions` and checks the receipt, the transaction and the balances.
  async function typeTwoTransfer(sendOptions) {
    assert.equal(from, acct0.address);
    const senderBefore = await web3.eth.getBalance(from);
    const recipientBefore = await web3.eth.getBalance(to);
    const nonceBefore = await web3.eth.getTransactionCount(from, 'latest');

    const receipt = await web3.eth.sendTransaction(
      { from, to, value, type: '0x2' },
      undefined,
      sendOptions,
    );

    assert.equal(receipt.status, 1n);
    assert.equal(receipt.type, 2n);
    assert.equal(receipt.from.toLowerCase(), from.toLowerCase());
    assert.equal(receipt.to.toLowerCase(), to.toLowerCase());
    assert.equal(receipt.gasUsed, 21000n);
    const fee = receipt.gasUsed * receipt.effectiveGasPrice;
    assert.equal(await web3.eth.getBalance(from), senderBefore - BigInt(value) - fee);
    assert.equal(await web3.eth.getBalance(to), recipientBefore + BigInt(value));
    assert.equal(await web3.eth.getTransactionCount(from, 'latest'), nonceBefore + 1n);

    // The receipt as the node sends it, and as web3 formats it in hex.
    const raw = await rpcCall(chain.rpcUrl, 'eth_getTransactionReceipt', [receipt.transactionHash]);
    assert.equal(raw.type, '0x2');
    assert.equal(raw.status, '0x1');
    const hexReceipt = await web3.eth.getTransactionReceipt(receipt.transactionHash, HEX);
    assert.equal(hexReceipt.type, '0x2');
    const tx = await web3.eth.getTransaction(receipt.transactionHash);
    assert.equal(tx.type, 2n);
    assert.equal(tx.chainId, 20200n);
    assert.equal(tx.nonce, nonceBefore);
    assert.equal(tx.value, BigInt(value));
    assert.notEqual(tx.maxFeePerGas, undefined);
    assert.notEqual(tx.maxPriorityFeePerGas, undefined);
    assert.equal(tx.blockHash, receipt.blockHash);

    const block = await web3.eth.getBlock(receipt.blockNumber);
    assert.equal(block.hash, receipt.blockHash);
    assert.ok(block.transactions.includes(receipt.transactionHash));
    assert.equal(block.baseFeePerGas, 0n);
  }

  // web3 v4 first runs the transaction through eth_call (to report a revert
  // before sending) unless told not to: this step needs only the transfer
  // path of the node, the next one also eth_call.
  await t.step('a type-2 transfer from wallet.add(privateKey), no eth_call pre-check', () =>
    typeTwoTransfer({ checkRevertBeforeSending: false }),
  );

  await t.step('a type-2 transfer with web3\'s default options (eth_call pre-check)', () =>
    typeTwoTransfer(undefined),
  );
});
