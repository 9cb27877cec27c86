module.exports = { displayName: '@gw/billing-app', preset: '../../jest.preset.js' };
