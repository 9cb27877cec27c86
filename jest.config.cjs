/** One Jest run over every project: unit specs beside the code and the end-to-end suites in test/. */
module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  // A global option (a project's own is ignored): the end-to-end suites' hooks close apps bounded at
  // 20 s (support/test-app.ts), and a loaded CI machine makes a few tests outlast jest's 5 s.
  testTimeout: 30_000,
  projects: ['<rootDir>/libs/*/jest.config.cjs', '<rootDir>/apps/*/jest.config.cjs', '<rootDir>/test/jest.config.cjs'],
};
