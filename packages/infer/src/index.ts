// @depthfold/infer: classifies images with a depthfold ONNX model through ONNX Runtime; never imports TensorFlow.js.
// The root is the Node entry. Bundlers and `node --conditions=browser` take the web entry instead (the `browser`
// condition of package.json), which has the same names plus ImageData input.
export * from './node/index.js';
