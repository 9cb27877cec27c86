module.exports = { displayName: '@gw/llm', preset: '../../jest.preset.js' };
