// @depthfold/infer: classifies images with a depthfold ONNX model through ONNX Runtime; never imports TensorFlow.js.
// The root is the Node entry. Bundlers and `node --conditions=browser` take the web entry instead (the `browser`
// condition of package.json), which has the same names and takes a page's images (Blobs, ImageData, image elements,
// bitmaps, canvases) where this one takes paths.
export * from './node/index.js';
