export * from './messages.js';
export * from './update.js';
