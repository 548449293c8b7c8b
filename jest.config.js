'use strict';
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  collectCoverageFrom: ['api/**/*.ts', 'policies/**/*.ts', 'cli/**/*.ts', 'migrations/**/*.ts', '!policies/wasm/runtime/**'],
  coverageThreshold: { global: { lines: 0 } },
  testTimeout: 30000,
};
