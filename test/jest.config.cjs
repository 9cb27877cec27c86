/** A test app's close is bounded at 20 s (support/test-app.ts), so hooks get 30 s, not jest's 5. */
module.exports = { displayName: 'e2e', preset: '../jest.preset.js', testMatch: ['<rootDir>/**/*.e2e-spec.ts'], testTimeout: 30_000 };
