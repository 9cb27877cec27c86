export { AZURE_DEFAULT_API_VERSION, azureOpenAiAdapter, azureOpenAiSpec, createAzureOpenAiAdapter, type AzureOpenAiOptions } from './azure.adapter';
