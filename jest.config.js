// Four kinds of tests, run by `npm test` in this order (scripts/test.sh):
//   unit     - logic only: no processes, no root, no network beyond an in-process loopback server (fast)
//   local    - real local processes on loopback (an sshd, QEMU, etcd, terraform, the agent): *.local.test.ts
//   lab      - real sshd, QEMU and etcd on lab hosts (network namespaces on this machine)
//   provider - the real terraform binary driving the orbit provider
const tsJest = ['ts-jest', { isolatedModules: true, tsconfig: 'tsconfig.json' }];
const common = { transform: { '^.+\\.ts$': tsJest }, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
const colocated = ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/{constructs,provider,scripts}/**/*.test.ts'];

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: colocated,
      testPathIgnorePatterns: ['/node_modules/', '\\.local\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'local',
      testMatch: colocated.map((glob) => glob.replace('*.test.ts', '*.local.test.ts')),
    },
    {
      ...common,
      displayName: 'lab',
      testMatch: ['<rootDir>/test/lab/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'provider',
      testMatch: ['<rootDir>/test/provider/**/*.test.ts'],
    },
  ],
};
