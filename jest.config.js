// Three kinds of tests, run by `npm test` in this order (scripts/test.sh):
//   unit     - logic, plus real local processes on loopback only (an sshd, QEMU, the test guest)
//   lab      - real sshd, QEMU and etcd on lab hosts (network namespaces on this machine)
//   provider - the real terraform binary driving the orbit provider
const tsJest = ['ts-jest', { isolatedModules: true, tsconfig: 'tsconfig.json' }];
const common = { transform: { '^.+\\.ts$': tsJest }, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/{constructs,provider,scripts}/**/*.test.ts'],
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
