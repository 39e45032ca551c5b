// Which shipped model the tools use by default, named once so that shipping a better one is a one-line change.

/**
 * The model in `models/` (a path from the repository root) that the demo page, `pnpm card` and `pnpm bench:serve`
 * use unless told otherwise: the best one shipped, with its card beside it (`.md` for `.onnx`).
 */
export const SHIPPED_MODEL = 'models/resnet20-fashion-mnist-v3.onnx';
