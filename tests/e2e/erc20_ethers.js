'use strict';
// e2e.erc20_ethers: contracts/Token.sol compiled by solc-js (solc's default
// EVM version) and driven through ethers v6: deployment at the address the
// client predicts, eth_call reads, eth_estimateGas, transfer / approve /
// transferFrom with their events, Transfer events through eth_getLogs
// (contract.queryFilter), a require with a message and a custom error
// decoded by ethers (from eth_call, from eth_estimateGas and through
// interface.parseError), and a reverted transaction mined with status 0.

const assert = require('node:assert/strict');
const { ethers } = require('ethers');
const { runSuite } = require('./lib/harness');
const { compileContract } = require('./lib/compile');

const SUPPLY = ethers.parseUnits('1000000', 18);
const WAIT_TIMEOUT_MS = 30000;

function addressFor(label) {
  return ethers.getAddress(ethers.dataSlice(ethers.id(`teechain-e2e:${label}`), 12));
}

async function mined(tx) {
  const receipt = await tx.wait(1, WAIT_TIMEOUT_MS);
  assert.ok(receipt, `no receipt for ${tx.hash}`);
  return receipt;
}

// Checks that `promise` rejects with a CALL_EXCEPTION whose revert ethers
// decoded as `name(args)`.
async function expectRevert(promise, name, args) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION', err.message);
    assert.ok(err.revert, `ethers decoded no revert from ${err.data} (${err.message})`);
    assert.equal(err.revert.name, name);
    assert.deepEqual([...err.revert.args], args);
    if (name === 'Error') {
      assert.equal(err.reason, args[0]);
    }
    return true;
  });
}

runSuite('erc20_ethers', async (t, chain) => {
  // cacheTimeout -1: no answers from ethers' 250 ms request cache.
  const network = new ethers.Network('teechain', chain.chainId);
  const provider = new ethers.JsonRpcProvider(chain.rpcUrl, network, {
    staticNetwork: network,
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  const owner = new ethers.Wallet(chain.accounts[0].privateKey, provider);
  const spender = new ethers.Wallet(chain.accounts[1].privateKey, provider);
  const holder = new ethers.Wallet(chain.accounts[2].privateKey, provider);
  const alice = addressFor('alice');
  const bob = addressFor('bob');
  let compiled;
  let token;
  let deployBlock;

  await t.step('Token.sol compiles with solc-js', () => {
    compiled = compileContract('Token.sol', 'Token');
    console.log(`    solc ${compiled.solcVersion}, evmVersion ${compiled.evmVersion}`);
    assert.ok(compiled.bytecode.length > 2);
  });

  await t.step('ContractFactory.deploy: mined at the address ethers predicts', async () => {
    const factory = new ethers.ContractFactory(compiled.abi, compiled.bytecode, owner);
    const nonce = await provider.getTransactionCount(owner.address, 'pending');
    const predicted = ethers.getCreateAddress({ from: owner.address, nonce });
    const deployGas = await provider.estimateGas(
      await factory.getDeployTransaction('TEEChain Test Token', 'TTT', SUPPLY),
    );
    assert.ok(deployGas > 21000n, `deployment estimate ${deployGas}`);
    token = await factory.deploy('TEEChain Test Token', 'TTT', SUPPLY);
    await token.waitForDeployment();
    const receipt = await mined(token.deploymentTransaction());
    assert.equal(receipt.status, 1);
    assert.equal(receipt.contractAddress, predicted);
    assert.equal(await token.getAddress(), predicted);
    assert.equal(receipt.to, null);
    assert.ok(receipt.gasUsed <= deployGas, `used ${receipt.gasUsed} > estimated ${deployGas}`);
    deployBlock = receipt.blockNumber;
    const code = await provider.getCode(predicted);
    assert.ok(code.length > 2, 'eth_getCode returns the runtime code');
    assert.ok(compiled.bytecode.includes(code.slice(2)), 'runtime code is inside the init code');
    const mint = receipt.logs
      .map((l) => token.interface.parseLog(l))
      .find((l) => l.name === 'Transfer');
    assert.ok(mint, 'constructor emitted Transfer');
    assert.deepEqual([...mint.args], [ethers.ZeroAddress, owner.address, SUPPLY]);
  });

  await t.step('eth_call reads: name, symbol, decimals, totalSupply, balanceOf', async () => {
    assert.equal(await token.name(), 'TEEChain Test Token');
    assert.equal(await token.symbol(), 'TTT');
    assert.equal(await token.decimals(), 18n);
    assert.equal(await token.totalSupply(), SUPPLY);
    assert.equal(await token.balanceOf(owner.address), SUPPLY);
    assert.equal(await token.balanceOf(alice), 0n);
  });

  await t.step('eth_estimateGas of a transfer, then the transfer and its Transfer event', async () => {
    const amount = 1000n;
    const estimate = await token.transfer.estimateGas(alice, amount);
    assert.ok(estimate > 21000n && estimate < 200000n, `estimate ${estimate}`);
    assert.equal(await token.transfer.staticCall(alice, amount), true);
    const receipt = await mined(await token.transfer(alice, amount));
    assert.equal(receipt.status, 1);
    assert.ok(receipt.gasUsed <= estimate, `used ${receipt.gasUsed} > estimated ${estimate}`);
    assert.equal(receipt.logs.length, 1);
    const log = token.interface.parseLog(receipt.logs[0]);
    assert.equal(log.name, 'Transfer');
    assert.deepEqual([...log.args], [owner.address, alice, amount]);
    assert.equal(receipt.logs[0].address, await token.getAddress());
    assert.notEqual(receipt.logsBloom, '0x' + '00'.repeat(256));
    assert.equal(await token.balanceOf(alice), amount);
    assert.equal(await token.balanceOf(owner.address), SUPPLY - amount);
  });

  await t.step('approve + transferFrom: Approval event, allowance, balances', async () => {
    const tokenAsOwner = token.connect(owner);
    const approveReceipt = await mined(await tokenAsOwner.approve(spender.address, 500n));
    const approval = token.interface.parseLog(approveReceipt.logs[0]);
    assert.equal(approval.name, 'Approval');
    assert.deepEqual([...approval.args], [owner.address, spender.address, 500n]);
    assert.equal(await token.allowance(owner.address, spender.address), 500n);

    const tokenAsSpender = token.connect(spender);
    const receipt = await mined(await tokenAsSpender.transferFrom(owner.address, bob, 200n));
    assert.equal(receipt.status, 1);
    assert.equal(await token.allowance(owner.address, spender.address), 300n);
    assert.equal(await token.balanceOf(bob), 200n);
    assert.equal(await token.balanceOf(owner.address), SUPPLY - 1200n);
  });

  await t.step('queryFilter(Transfer) through eth_getLogs: all, by topic, by block range', async () => {
    const all = await token.queryFilter(token.filters.Transfer(), deployBlock, 'latest');
    assert.deepEqual(
      all.map((e) => [...e.args]),
      [
        [ethers.ZeroAddress, owner.address, SUPPLY],
        [owner.address, alice, 1000n],
        [owner.address, bob, 200n],
      ],
    );
    for (const e of all) {
      assert.equal(e.address, await token.getAddress());
      assert.equal(e.eventName, 'Transfer');
      const receipt = await provider.getTransactionReceipt(e.transactionHash);
      assert.equal(receipt.blockNumber, e.blockNumber);
    }
    const toAlice = await token.queryFilter(token.filters.Transfer(null, alice), 0, 'latest');
    assert.equal(toAlice.length, 1);
    assert.equal(toAlice[0].args.value, 1000n);
    const fromOwner = await token.queryFilter(token.filters.Transfer(owner.address), 0, 'latest');
    assert.equal(fromOwner.length, 2);
    const approvals = await token.queryFilter(token.filters.Approval(), 0, 'latest');
    assert.equal(approvals.length, 1);
    const first = await token.queryFilter(token.filters.Transfer(), deployBlock, deployBlock);
    assert.equal(first.length, 1, 'only the mint is in the deployment block');
    const nobody = token.filters.Transfer(null, addressFor('nobody'));
    const none = await token.queryFilter(nobody, 0, 'latest');
    assert.equal(none.length, 0);
  });

  await t.step('require(..., message): ethers decodes the reason (call, estimate, send)', async () => {
    const message = 'transfer to the zero address';
    await expectRevert(token.transfer.staticCall(ethers.ZeroAddress, 1n), 'Error', [message]);
    await expectRevert(token.transfer.estimateGas(ethers.ZeroAddress, 1n), 'Error', [message]);
    await expectRevert(token.transfer(ethers.ZeroAddress, 1n), 'Error', [message]);
    await expectRevert(
      token.approve.staticCall(ethers.ZeroAddress, 1n),
      'Error',
      ['approve to the zero address'],
    );
  });

  await t.step('custom errors: InsufficientBalance(available, required) decoded', async () => {
    // The holder has no tokens yet; give it 10 and ask to move 25.
    await mined(await token.connect(owner).transfer(holder.address, 10n));
    const asHolder = token.connect(holder);
    await expectRevert(asHolder.transfer.staticCall(alice, 25n), 'InsufficientBalance', [10n, 25n]);
    // ethers decodes custom errors itself only for calls; from eth_estimateGas
    // it hands over the revert data, which the contract's interface parses.
    for (const attempt of [asHolder.transfer.staticCall, asHolder.transfer.estimateGas]) {
      await assert.rejects(attempt(alice, 25n), (err) => {
        assert.equal(err.code, 'CALL_EXCEPTION', err.message);
        const parsed = token.interface.parseError(err.data);
        assert.ok(parsed, `no custom error in ${err.data}`);
        assert.equal(parsed.name, 'InsufficientBalance');
        assert.equal(parsed.signature, 'InsufficientBalance(uint256,uint256)');
        assert.deepEqual([...parsed.args], [10n, 25n]);
        return true;
      });
    }
    await expectRevert(
      token.connect(spender).transferFrom.staticCall(owner.address, bob, 301n),
      'InsufficientAllowance',
      [300n, 301n],
    );
  });

  await t.step('a reverting transaction with a fixed gas limit is mined with status 0', async () => {
    const asHolder = token.connect(holder);
    const nonce = await provider.getTransactionCount(holder.address, 'latest');
    const tx = await asHolder.transfer(alice, 25n, { gasLimit: 100000n });
    await assert.rejects(tx.wait(1, WAIT_TIMEOUT_MS), (err) => {
      assert.equal(err.code, 'CALL_EXCEPTION', err.message);
      assert.ok(err.receipt, 'the error carries the receipt');
      assert.equal(err.receipt.status, 0);
      assert.equal(err.receipt.logs.length, 0);
      return true;
    });
    const receipt = await provider.getTransactionReceipt(tx.hash);
    assert.equal(receipt.status, 0);
    assert.equal(await provider.getTransactionCount(holder.address, 'latest'), nonce + 1);
    assert.equal(await token.balanceOf(holder.address), 10n);
    assert.equal(await token.balanceOf(alice), 1000n);
  });

  provider.destroy();
});
