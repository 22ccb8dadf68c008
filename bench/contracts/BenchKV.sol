// SPDX-License-Identifier: Apache-2.0
// The contract of `teechain bench --workload kv`: set() writes exactly one
// storage slot per call, so that the benchmark measures a state write with
// as little EVM work around it as possible.
pragma solidity ^0.8.20;

contract BenchKV {
    mapping(uint256 => uint256) public get;

    function set(uint256 key, uint256 value) external {
        get[key] = value;
    }
}
