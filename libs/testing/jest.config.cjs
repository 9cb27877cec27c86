module.exports = { displayName: '@gw/testing', preset: '../../jest.preset.js' };
