module.exports = { displayName: '@gw/db', preset: '../../jest.preset.js' };
