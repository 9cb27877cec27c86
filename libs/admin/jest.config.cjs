module.exports = { displayName: '@gw/admin', preset: '../../jest.preset.js' };
