module.exports = { displayName: '@gw/routing', preset: '../../jest.preset.js' };
