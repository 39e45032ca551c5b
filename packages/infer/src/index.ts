// @depthfold/infer: classifies images with a depthfold ONNX model through ONNX Runtime; never imports TensorFlow.js.
// Node is the only platform yet, so the root is the Node entry; a browser entry will sit beside it under the
// `browser` export condition with the same names.
export * from './node/index.js';
