module.exports = { displayName: '@gw/metering', preset: '../../jest.preset.js' };
