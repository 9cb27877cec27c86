module.exports = { displayName: '@gw/observability', preset: '../../jest.preset.js' };
