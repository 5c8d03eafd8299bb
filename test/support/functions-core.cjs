// Preload (`node --require`) standing in for `@azure/functions-core`, the module the Azure
// Functions worker injects: @azure/functions registers through it. Records every registration
// (metadata + handler) on globalThis.__functionsCore so a test or the bench can read them. It must
// run before the first `app.*` call: @azure/functions caches its lookup of the module.
const Module = require('node:module');

const registrations = [];
const core = {
  registerFunction(metadata, handler) {
    registrations.push({ metadata, handler });
    return { dispose() {} };
  },
  setProgrammingModel() {},
  registerHook: () => ({ dispose() {} }),
  log() {},
};
globalThis.__functionsCore = { registrations };

const load = Module._load;
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? core : load.call(this, request, ...rest);
};
