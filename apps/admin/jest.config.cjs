module.exports = { displayName: '@gw/admin-app', preset: '../../jest.preset.js' };
