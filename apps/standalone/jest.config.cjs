module.exports = { displayName: '@gw/standalone', preset: '../../jest.preset.js' };
