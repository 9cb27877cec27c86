module.exports = { displayName: '@gw/gateway-app', preset: '../../jest.preset.js' };
