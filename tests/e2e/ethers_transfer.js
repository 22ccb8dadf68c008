'use strict';
// e2e.ethers_transfer: value transfers through ethers v6 (JsonRpcProvider +
// Wallet from a development account's key file): one transfer checked field
// by field (balances, nonces, block, transaction, receipt), several
// sequential transfers, a burst of parallel transfers with explicit nonces,
// and the errors ethers reports for a reused nonce and an empty account.

const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { runSuite, rpcCall, sleep } = require('./lib/harness');

const SEQUENTIAL_COUNT = 5;
const BURST_COUNT = 20;
const WAIT_TIMEOUT_MS = 30000;
const AGREE_TIMEOUT_MS = 10000;

// A fixed address nobody holds a key for, named by `label`.
function addressFor(label) {
  return ethers.getAddress(ethers.dataSlice(ethers.id(`teechain-e2e:${label}`), 12));
}

// cacheTimeout -1: ethers otherwise answers an identical request made within
// 250 ms from its cache, so a nonce read right after a receipt could be stale.
function providerFor(url, chainId) {
  const network = new ethers.Network('teechain', chainId);
  return new ethers.JsonRpcProvider(url, network, {
    staticNetwork: network,
    pollingInterval: 100,
    cacheTimeout: -1,
  });
}

async function mined(tx) {
  const receipt = await tx.wait(1, WAIT_TIMEOUT_MS);
  assert.ok(receipt, `no receipt for ${tx.hash}`);
  return receipt;
}

// The fee a mined transaction cost its sender.
function feeOf(receipt) {
  return receipt.gasUsed * receipt.gasPrice;
}

// Waits until every node reports `expected` for eth_getBalance(address).
async function expectBalanceOnEveryNode(chain, address, expected) {
  for (const url of chain.rpcUrls) {
    const deadline = Date.now() + AGREE_TIMEOUT_MS;
    let balance;
    for (;;) {
      balance = BigInt(await rpcCall(url, 'eth_getBalance', [address, 'latest']));
      if (balance === expected || Date.now() > deadline) {
        break;
      }
      await sleep(100);
    }
    assert.equal(balance, expected, `balance of ${address} on ${url}`);
  }
}

runSuite('ethers_transfer', async (t, chain) => {
  const provider = providerFor(chain.rpcUrl, chain.chainId);
  const [acct0, acct1, acct2] = chain.accounts;
  const value = ethers.parseEther('1.5');

  await t.step('eth_chainId is 20200 and the gas price is 0', async () => {
    assert.equal(BigInt(await provider.send('eth_chainId', [])), 20200n);
    const fee = await provider.getFeeData();
    assert.equal(fee.gasPrice, 0n);
    assert.ok((await provider.getBlockNumber()) >= 0);
  });

  await t.step('Wallet.sendTransaction + tx.wait(): balances, nonces, block, receipt', async () => {
    const wallet = new ethers.Wallet(acct0.privateKey, provider);
    assert.equal(wallet.address, acct0.address, 'key file name is the EIP-55 address of its key');
    const to = addressFor('single');
    const senderBefore = await provider.getBalance(wallet.address);
    const recipientBefore = await provider.getBalance(to);
    assert.equal(senderBefore, ethers.parseEther('1000000'), 'genesis allocation');
    assert.equal(recipientBefore, 0n);
    const nonceBefore = await provider.getTransactionCount(wallet.address, 'latest');
    assert.equal(await provider.getTransactionCount(wallet.address, 'pending'), nonceBefore);

    const tx = await wallet.sendTransaction({ to, value });
    assert.equal(tx.nonce, nonceBefore);
    assert.equal(tx.chainId, 20200n);
    const receipt = await mined(tx);

    assert.equal(receipt.status, 1);
    assert.equal(receipt.hash, tx.hash);
    assert.equal(receipt.from, wallet.address);
    assert.equal(receipt.to, to);
    assert.equal(receipt.contractAddress, null);
    assert.equal(receipt.gasUsed, 21000n);
    assert.ok(receipt.cumulativeGasUsed >= receipt.gasUsed);
    assert.equal(receipt.gasPrice, 0n, 'gas price 0 on this chain');
    assert.equal(receipt.logs.length, 0);
    assert.equal(receipt.logsBloom, '0x' + '00'.repeat(256));
    assert.equal(receipt.type, tx.type);
    assert.ok(receipt.blockNumber >= 1);

    assert.equal(await provider.getBalance(wallet.address), senderBefore - value - feeOf(receipt));
    assert.equal(await provider.getBalance(to), recipientBefore + value);
    assert.equal(await provider.getTransactionCount(wallet.address, 'latest'), nonceBefore + 1);
    assert.equal(await provider.getTransactionCount(wallet.address, 'pending'), nonceBefore + 1);

    const block = await provider.getBlock(receipt.blockNumber, true);
    assert.equal(block.hash, receipt.blockHash);
    assert.equal(block.number, receipt.blockNumber);
    assert.ok(block.transactions.includes(tx.hash));
    assert.equal(block.baseFeePerGas, 0n);
    assert.ok(block.timestamp > 0);
    assert.ok(block.gasUsed >= receipt.gasUsed);
    const parent = await provider.getBlock(receipt.blockNumber - 1);
    assert.equal(block.parentHash, parent.hash);
    const inBlock = block.prefetchedTransactions.find((x) => x.hash === tx.hash);
    assert.ok(inBlock, 'full block holds the transaction');
    assert.equal(inBlock.from, wallet.address);
    assert.equal(inBlock.value, value);
    assert.equal((await provider.getBlock('latest')).number >= block.number, true);

    const fetched = await provider.getTransaction(tx.hash);
    assert.equal(fetched.from, wallet.address);
    assert.equal(fetched.to, to);
    assert.equal(fetched.value, value);
    assert.equal(fetched.nonce, nonceBefore);
    assert.equal(fetched.blockNumber, receipt.blockNumber);
    assert.equal(fetched.blockHash, receipt.blockHash);
    assert.equal(fetched.index, receipt.index);

    await expectBalanceOnEveryNode(chain, to, value);
  });

  await t.step(`${SEQUENTIAL_COUNT} sequential transfers, each waited for`, async () => {
    const wallet = new ethers.Wallet(acct1.privateKey, provider);
    const to = addressFor('sequential');
    const before = await provider.getBalance(wallet.address);
    const firstNonce = await provider.getTransactionCount(wallet.address, 'latest');
    let fees = 0n;
    let lastBlock = 0;
    for (let i = 0; i < SEQUENTIAL_COUNT; i++) {
      const tx = await wallet.sendTransaction({ to, value: BigInt(i + 1) });
      assert.equal(tx.nonce, firstNonce + i);
      const receipt = await mined(tx);
      assert.equal(receipt.status, 1);
      assert.ok(receipt.blockNumber > lastBlock, 'each transfer mined after the one before');
      lastBlock = receipt.blockNumber;
      fees += feeOf(receipt);
      assert.equal(
        await provider.getTransactionCount(wallet.address, 'latest'),
        firstNonce + i + 1,
      );
    }
    const sent = BigInt((SEQUENTIAL_COUNT * (SEQUENTIAL_COUNT + 1)) / 2);
    assert.equal(await provider.getBalance(to), sent);
    assert.equal(await provider.getBalance(wallet.address), before - sent - fees);
    await expectBalanceOnEveryNode(chain, to, sent);
  });

  // Sent and checked through the last node: on a multi-node chain, a
  // follower's pool forwards them to the leader.
  await t.step(`a burst of ${BURST_COUNT} parallel transfers with explicit nonces`, async () => {
    const lastNode = providerFor(chain.rpcUrls[chain.rpcUrls.length - 1], chain.chainId);
    const wallet = new ethers.Wallet(acct2.privateKey, lastNode);
    const to = addressFor('burst');
    const before = await lastNode.getBalance(wallet.address);
    const base = await lastNode.getTransactionCount(wallet.address, 'pending');
    const each = ethers.parseUnits('3', 'gwei');
    const txs = await Promise.all(
      Array.from({ length: BURST_COUNT }, (_, i) =>
        wallet.sendTransaction({ to, value: each, nonce: base + i, gasLimit: 21000n }),
      ),
    );
    assert.deepEqual(
      txs.map((tx) => tx.nonce),
      Array.from({ length: BURST_COUNT }, (_, i) => base + i),
    );
    assert.equal(new Set(txs.map((tx) => tx.hash)).size, BURST_COUNT);
    const pending = await lastNode.getTransactionCount(wallet.address, 'pending');
    assert.equal(pending, base + BURST_COUNT, 'pending nonce once the burst is admitted');
    const receipts = await Promise.all(txs.map(mined));
    let fees = 0n;
    for (const receipt of receipts) {
      assert.equal(receipt.status, 1);
      fees += feeOf(receipt);
    }
    // Transactions of one sender are mined in nonce order.
    const order = receipts
      .map((r, i) => ({ nonce: txs[i].nonce, pos: r.blockNumber * 1e6 + r.index }))
      .sort((a, b) => a.pos - b.pos)
      .map((x) => x.nonce);
    assert.deepEqual(order, txs.map((tx) => tx.nonce));
    assert.equal(await lastNode.getTransactionCount(wallet.address, 'latest'), base + BURST_COUNT);
    assert.equal(await lastNode.getTransactionCount(wallet.address, 'pending'), base + BURST_COUNT);
    assert.equal(await lastNode.getBalance(to), each * BigInt(BURST_COUNT));
    assert.equal(await lastNode.getBalance(wallet.address), before - each * BigInt(BURST_COUNT) - fees);
    await expectBalanceOnEveryNode(chain, to, each * BigInt(BURST_COUNT));
    lastNode.destroy();
  });

  await t.step('a reused nonce is refused: ethers reports NONCE_EXPIRED', async () => {
    const wallet = new ethers.Wallet(acct0.privateKey, provider);
    await assert.rejects(
      wallet.sendTransaction({ to: addressFor('stale'), value: 1n, nonce: 0, gasLimit: 21000n }),
      (err) => {
        assert.equal(err.code, 'NONCE_EXPIRED', err.message);
        return true;
      },
    );
    assert.equal(await provider.getBalance(addressFor('stale')), 0n);
  });

  await t.step('an empty account cannot pay: ethers reports INSUFFICIENT_FUNDS', async () => {
    const empty = new ethers.Wallet(ethers.id('teechain-e2e:empty-account'), provider);
    assert.equal(await provider.getBalance(empty.address), 0n);
    await assert.rejects(
      empty.sendTransaction({ to: acct0.address, value: 1n, gasLimit: 21000n }),
      (err) => {
        assert.equal(err.code, 'INSUFFICIENT_FUNDS', err.message);
        return true;
      },
    );
  });

  provider.destroy();
});
