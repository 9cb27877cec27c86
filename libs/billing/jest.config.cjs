module.exports = { displayName: '@gw/billing', preset: '../../jest.preset.js' };
