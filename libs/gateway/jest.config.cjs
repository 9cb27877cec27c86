module.exports = { displayName: '@gw/gateway', preset: '../../jest.preset.js' };
