module.exports = { displayName: '@gw/core', preset: '../../jest.preset.js' };
